// The one way this page makes elements: attributes and text only, never markup, so nothing
// from a URL, a file or the engine can become HTML.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}


/**
 * Fills a run picker with `[value, label]` pairs, rebuilt only when they change (a rebuild lays
 * the page out again), keeping the choice where it is still offered. With no run it holds one
 * disabled entry, `none`, rather than an empty box.
 */
export function fillRunPicker(select, runs, none) {
  const options = runs.length > 0 ? runs : [["", none]];
  const signature = JSON.stringify(options);
  if (signature !== select.dataset.options) {
    const chosen = select.value;
    select.replaceChildren(...options.map(([value, label]) => el("option", { value }, label)));
    select.dataset.options = signature;
    if (runs.some(([value]) => value === chosen)) select.value = chosen;
  }
  select.disabled = runs.length === 0;
}

/**
 * A control whose new value the engine refused goes back to the value in force, where it can
 * only show a value it holds (a select, a checkbox, a slider): left on the refused choice, the
 * form would say one thing while runs use another. A text field keeps what was typed, for the
 * reader to mend beside the message.
 */
export function showValueInForce(input, value) {
  if (input.type === "checkbox") input.checked = Boolean(value);
  else if (input.tagName === "SELECT") input.value = String(value);
  else if (input.type === "range") {
    input.value = String(value);
    input.dispatchEvent(new Event("input")); // its number beside it follows
  }
}
