// stop_signal: SIGTERM, TERM or a number, mapped to the signal name Node uses.
import { constants } from 'node:os';

const BY_NUMBER = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, num]) => [num, name as NodeJS.Signals]),
);

export function toSignal(value: string | number): NodeJS.Signals | undefined {
  if (typeof value === 'number' || /^\d+$/.test(value)) return BY_NUMBER.get(Number(value));
  const upper = value.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return Object.hasOwn(constants.signals, name) ? (name as NodeJS.Signals) : undefined;
}
