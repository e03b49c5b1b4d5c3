// Writes to the API with the bearer token, and the notices that say how they went.

const TOKEN_KEY = 'gaffer.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
  renderTokenState();
}

const noticeBox = () => document.getElementById('notice');
let noticeTimer;

/** Hides the notice if `source` showed it (the stream's trouble, once the stream is back). */
export function clearNotice(source) {
  const box = noticeBox();
  if (!box.hidden && box.dataset.source === source) box.hidden = true;
}

/** Shows a message over the page; errors stay until the next notice or a click, the rest fade after a few seconds. */
export function notice(text, kind = 'info', source = 'page') {
  const box = noticeBox();
  clearTimeout(noticeTimer);
  box.textContent = text;
  box.dataset.kind = kind;
  box.dataset.source = source;
  box.hidden = false;
  if (kind !== 'error') noticeTimer = setTimeout(() => (box.hidden = true), 4000);
}

/**
 * Sends one write. Resolves with the answer's JSON (or null), or rejects
 * after showing the API's own error message.
 */
export async function write(method, path, body) {
  if (!token()) {
    askForToken('Changing things needs the server\'s token (GAFFER_TOKEN): enter it in the token field above.');
    throw new Error('no token');
  }
  const headers = { authorization: `Bearer ${token()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    notice(`The server did not answer (${error.message}); is it still running?`, 'error');
    throw error;
  }
  const text = await response.text();
  const json = text ? safeJson(text) : null;
  if (!response.ok) {
    const message = json?.error?.message ?? `${response.status} ${response.statusText}`;
    const code = json?.error?.code ? ` (${json.error.code})` : '';
    if (response.status === 401) askForToken(`${message}${code}`);
    else notice(`${message}${code}`, 'error');
    throw new Error(message);
  }
  return json;
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function askForToken(message) {
  notice(message, 'error');
  const form = document.getElementById('token-form');
  form.dataset.set = 'false';
  document.getElementById('token').focus();
}

/** The token field: asked once, kept for this tab (sessionStorage), never shown again. */
export function setUpTokenForm() {
  const form = document.getElementById('token-form');
  const input = document.getElementById('token');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = input.value.trim();
    input.value = '';
    setToken(value);
    if (value) notice('Token kept for this tab.');
  });
  document.getElementById('token-forget').addEventListener('click', () => setToken(''));
  document.getElementById('token-change').addEventListener('click', () => {
    form.dataset.set = 'false';
    input.focus();
  });
  renderTokenState();
}

function renderTokenState() {
  document.getElementById('token-form').dataset.set = token() ? 'true' : 'false';
}
