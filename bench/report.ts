import type { Figure } from './figure.js';

export interface ScenarioError {
  scenario: string;
  message: string;
}

function formatValue(value: number, unit: string): string {
  switch (unit) {
    case 'ratio':
      return value.toFixed(3);
    case 'tasks/s':
      return `${Math.round(value).toLocaleString('en-US')} tasks/s`;
    default:
      return `${value.toFixed(1)} ${unit}`;
  }
}

const OP = { '>=': '≥', '>': '>', '<': '<' } as const;

function row(figure: Figure): string[] {
  const anchor = figure.anchor ? `${formatValue(figure.anchor.value, figure.unit)} (${figure.anchor.name})` : 'skipped';
  const target = figure.target
    ? `${OP[figure.target.op]} ${formatValue(figure.target.value, figure.unit)}${figure.target.basis ? ` (${figure.target.basis})` : ''}`
    : '—';
  const met = figure.met === null ? '—' : figure.met ? 'yes' : 'NO';
  return [figure.label, formatValue(figure.gaffer, figure.unit), anchor, figure.ratio === null ? '—' : `${figure.ratio.toFixed(2)}×`, target, met];
}

/** The figures as a plain-text table (ratio = gaffer / anchor), then notes and failures. */
export function renderReport(figures: readonly Figure[], errors: readonly ScenarioError[]): string {
  const header = ['figure', 'gaffer', 'anchor', 'ratio', 'target', 'met?'];
  const rows = [header, ...figures.map(row)];
  const widths = header.map((_, column) => Math.max(...rows.map((cells) => [...cells[column]!].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell + ' '.repeat(widths[column]! - [...cell].length)).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  const out = [line(header), rule, ...rows.slice(1).map(line)];
  for (const figure of figures) if (figure.note) out.push(`note: ${figure.id}: ${figure.note}`);
  for (const error of errors) out.push(`FAILED: ${error.scenario}: ${error.message}`);
  return out.join('\n');
}
