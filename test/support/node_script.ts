// Runs a client script under Node (amqplib is a Node library; its interop is checked where it
// normally runs) and returns its output. The script prints JSON lines the test asserts on.
import { join } from "node:path";

const projectRoot = join(import.meta.dir, "..", "..");

export async function runNode(script: string, args: string[], timeout_ms = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["node", join(projectRoot, script), ...args], { cwd: projectRoot, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeout_ms);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}
