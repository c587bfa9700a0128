// For engines whose driver reports no console (WebKit's WebDriver): records, in the page,
// what a console would show as an error. Injected before the page's own scripts by the test
// server (same origin) or inlined into a copy of a file:// page; read as window.__captured.
(() => {
  const seen = (window.__captured = []);
  const text = (x) => (x instanceof Error ? `${x.name}: ${x.message}` : typeof x === "string" ? x : JSON.stringify(x));
  addEventListener("error", (event) => {
    if (event.target !== window) seen.push(`failed to load ${event.target.src ?? event.target.href ?? event.target.tagName}`);
    else seen.push(`pageerror: ${event.error ? text(event.error) : event.message}`);
  }, true);
  addEventListener("unhandledrejection", (event) => seen.push(`unhandledrejection: ${text(event.reason)}`));
  document.addEventListener("securitypolicyviolation", (event) => seen.push(`csp: ${event.violatedDirective} ${event.blockedURI}`));
  const error = console.error;
  console.error = (...args) => {
    seen.push(args.map(text).join(" "));
    error.apply(console, args);
  };
})();
