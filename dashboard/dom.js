// Small DOM helpers. Every value from the server goes in as text, never as HTML.

/** el('td.num', { title: 'x' }, 'text', child) */
export function el(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const node = document.createElement(tag);
  if (classes.length) node.className = classes.join(' ');
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

export function setText(node, text, title) {
  if (node.textContent !== text) node.textContent = text;
  if (title !== undefined && node.title !== title) node.title = title;
}

/**
 * Keeps a table body in step with `items`: a row per key, created once and
 * updated in place, so that a field being typed in or a button under the
 * mouse survives the next frame.
 *   columns: [{ cls, make?(td, item), update(td, item) }]
 */
export function syncRows(tbody, items, keyOf, columns, empty) {
  const existing = new Map([...tbody.rows].filter((row) => row.dataset.key !== undefined).map((row) => [row.dataset.key, row]));
  const wanted = [];
  for (const item of items) {
    const key = String(keyOf(item));
    let row = existing.get(key);
    existing.delete(key);
    if (!row) {
      row = el('tr', { dataset: { key } });
      for (const column of columns) {
        const td = el('td', { class: column.cls });
        column.make?.(td, item);
        row.append(td);
      }
    }
    columns.forEach((column, index) => column.update(row.cells[index], item));
    wanted.push(row);
  }
  for (const row of existing.values()) row.remove();
  tbody.querySelector('tr.empty')?.remove();
  wanted.forEach((row, index) => {
    if (tbody.rows[index] !== row) tbody.insertBefore(row, tbody.rows[index] ?? null);
  });
  if (items.length === 0 && empty) tbody.append(el('tr.empty', {}, el('td', { colspan: columns.length }, empty)));
}

/** "1–25 of 1,000" with previous and next; `onChange(offset)` when one is pressed. */
export class Pager {
  constructor(nav, limit, onChange) {
    this.offset = 0;
    this.limit = limit;
    this.onChange = onChange;
    this.label = el('span.range');
    this.prev = el('button', { type: 'button', onclick: () => this.go(this.offset - this.limit) }, '‹ previous');
    this.next = el('button', { type: 'button', onclick: () => this.go(this.offset + this.limit) }, 'next ›');
    nav.append(this.prev, this.label, this.next);
    this.nav = nav;
  }

  go(offset) {
    this.offset = Math.max(0, offset);
    this.onChange(this.offset);
  }

  reset() {
    this.offset = 0;
  }

  show(page) {
    const { total, offset, items } = page;
    // The list shrank under the page being shown: go back to its last page.
    if (offset > 0 && offset >= total) return this.go(Math.max(0, Math.floor((total - 1) / this.limit) * this.limit));
    this.nav.hidden = total <= this.limit && offset === 0;
    setText(this.label, total === 0 ? 'none' : `${offset + 1}–${offset + items.length} of ${total.toLocaleString('en-US')}`);
    this.prev.disabled = offset === 0;
    this.next.disabled = offset + this.limit >= total;
  }
}
