/** One row of the report: gaffer's figure next to an anchor measured in the same run. */
export interface Target {
  op: '>=' | '<';
  value: number;
}

export interface Figure {
  /** Stable key, to compare runs. */
  id: string;
  label: string;
  /** 'ratio' for efficiencies; 'tasks/s', 'ms', 'MB' otherwise. */
  unit: string;
  gaffer: number;
  /** null when the anchor could not run (the note says why). */
  anchor: { name: string; value: number } | null;
  /** gaffer / anchor. */
  ratio: number | null;
  /** From issue 2's "Figures to reach"; null where it sets none. */
  target: Target | null;
  met: boolean | null;
  note?: string;
  details?: Record<string, unknown>;
}

export function makeFigure(input: Omit<Figure, 'ratio' | 'met'>): Figure {
  // Spelled out so that the JSON reads in the table's order.
  const ratio = input.anchor && input.anchor.value !== 0 ? input.gaffer / input.anchor.value : null;
  const met = input.target === null ? null : input.target.op === '>=' ? input.gaffer >= input.target.value : input.gaffer < input.target.value;
  const { note, details, ...rest } = input;
  return { ...rest, ratio, met, ...(note === undefined ? {} : { note }), ...(details === undefined ? {} : { details }) };
}
