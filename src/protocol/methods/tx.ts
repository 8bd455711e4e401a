// tx (class 90): standard transactions.
// One specialised decoder and encoder per method, generated once from the spec's argument
// lists (/work/shared/spec/amqp-rabbitmq-0.9.1.json) and kept as plain source. Reserved
// fields (ticket, reserved-N) are left out of the types, skipped when read and written as
// 0 / "". Consecutive bits share an octet, first bit in the lowest position.

import type { Reader } from "../reader.ts";

export interface TxSelect {
  name: "tx.select";
}

export interface TxSelectOk {
  name: "tx.select-ok";
}

export interface TxCommit {
  name: "tx.commit";
}

export interface TxCommitOk {
  name: "tx.commit-ok";
}

export interface TxRollback {
  name: "tx.rollback";
}

export interface TxRollbackOk {
  name: "tx.rollback-ok";
}

export type TxMethod =
  | TxSelect
  | TxSelectOk
  | TxCommit
  | TxCommitOk
  | TxRollback
  | TxRollbackOk;

/** Decodes the arguments of method `methodId` of class tx; undefined when the id is unknown. */
export function decodeTx(r: Reader, methodId: number): TxMethod | undefined {
  switch (methodId) {
    case 10: {
      r.what = "tx.select";
      r.done();
      return { name: "tx.select" };
    }
    case 11: {
      r.what = "tx.select-ok";
      r.done();
      return { name: "tx.select-ok" };
    }
    case 20: {
      r.what = "tx.commit";
      r.done();
      return { name: "tx.commit" };
    }
    case 21: {
      r.what = "tx.commit-ok";
      r.done();
      return { name: "tx.commit-ok" };
    }
    case 30: {
      r.what = "tx.rollback";
      r.done();
      return { name: "tx.rollback" };
    }
    case 31: {
      r.what = "tx.rollback-ok";
      r.done();
      return { name: "tx.rollback-ok" };
    }
    default:
      return undefined;
  }
}
