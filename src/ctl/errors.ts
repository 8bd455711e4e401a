// How `bun run ctl` fails: rabbitmqctl's exit codes (the BSD sysexits values it uses) with the
// text it prints on stderr.

export const ExitCode = {
  ok: 0,
  usage: 64,
  dataErr: 65,
  noInput: 66,
  noUser: 67,
  unavailable: 69,
  software: 70,
  cantCreate: 73,
  tempFail: 75,
  noPerm: 77,
} as const;

export class CtlError extends Error {
  /** `stderr` is printed as it is; most of rabbitmqctl's errors read "Error:\n<reason>". */
  constructor(
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(stderr);
  }
}

export function failure(exitCode: number, reason: string): CtlError {
  return new CtlError(exitCode, `Error:\n${reason}`);
}

export function usageError(reason: string, usage: string): CtlError {
  return new CtlError(ExitCode.usage, `Error (argument validation): ${reason}\n\nUsage\n\n${usage}`);
}
