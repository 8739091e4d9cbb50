// The terminal's look, shared by the Connect page and tools/gen-xterm-theme.mjs (which turns it
// into css/xterm-theme.css: the CSP forbids the <style> elements xterm.js would inject).

export const TERMINAL_OPTIONS = {
  cursorBlink: true,
  fontSize: 14,
  scrollback: 5000,
  fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
  theme: {background: '#0f1720', foreground: '#d7dee6', cursor: '#f0a04b'},
};
