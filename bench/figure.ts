/** One row of the report: gaffer's figure next to an anchor measured in the same run. */
export interface Target {
  op: '>=' | '>' | '<';
  value: number;
  /**
   * When the target is relative to an anchor measured in this run (issue 3:
   * "above BullMQ", "5 times Celery"): how `value` was derived, e.g. "5 × celery".
   */
  basis?: string;
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
  /** From the issues' "Figures to reach"; null where they set none (or where it is relative to an anchor that was skipped). */
  target: Target | null;
  met: boolean | null;
  note?: string;
  details?: Record<string, unknown>;
}

export function makeFigure(input: Omit<Figure, 'ratio' | 'met'>): Figure {
  // Spelled out so that the JSON reads in the table's order.
  const ratio = input.anchor && input.anchor.value !== 0 ? input.gaffer / input.anchor.value : null;
  const met = input.target === null ? null : meets(input.gaffer, input.target);
  const { note, details, ...rest } = input;
  return { ...rest, ratio, met, ...(note === undefined ? {} : { note }), ...(details === undefined ? {} : { details }) };
}

function meets(value: number, target: Target): boolean {
  switch (target.op) {
    case '>=':
      return value >= target.value;
    case '>':
      return value > target.value;
    case '<':
      return value < target.value;
  }
}
