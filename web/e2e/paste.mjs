// A paste as the browser delivers it: a paste event carrying `times` copies
// of `line` on its clipboard, dispatched at the editor and, unless the page
// refused it, inserted as the browser would. It runs inside the page
// (`page.evaluate(pasteIntoEditor, { line, times })`), so it names nothing
// outside itself; it returns the milliseconds the page took to handle the
// event, which the page bench reports.
export function pasteIntoEditor({ line, times }) {
  const editor = document.querySelector('[data-testid=editor]');
  editor.focus();
  const clipboardData = new DataTransfer();
  clipboardData.setData('text/plain', line.repeat(times));
  const t0 = performance.now();
  const e = new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true });
  editor.dispatchEvent(e);
  const took = performance.now() - t0;
  if (!e.defaultPrevented) editor.setRangeText(clipboardData.getData('text/plain'));
  return took;
}
