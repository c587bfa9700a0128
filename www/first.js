// The page's first script, before the chart library (a classic script, no defer): it makes
// navigator.language a tag Intl accepts, and keeps the errors of the scripts that load next.
//
// uPlot calls `new Intl.NumberFormat(navigator.language)` as it loads. Under a POSIX locale
// (LANG=C or C.UTF-8) WebKitGTK reports navigator.language "C", which is no BCP 47 tag: Intl
// throws "RangeError: invalid language tag: C", uPlot never defines itself, and no chart can
// be drawn. Where a browser reports such a tag, the page reports the engine's own default
// locale instead (what `new Intl.NumberFormat()` uses, without its extensions), or "en-US".

(() => {
  const valid = (tag) => {
    try {
      return typeof tag === "string" && Intl.getCanonicalLocales(tag).length === 1;
    } catch {
      return false;
    }
  };
  if (!valid(navigator.language)) {
    let fallback = "en-US";
    try {
      // e.g. "en-US-u-va-posix" under LANG=C: its language and region, "en-US".
      fallback = new Intl.NumberFormat().resolvedOptions().locale.split("-u-")[0];
    } catch {
      // keep en-US
    }
    const languages = [...(navigator.languages ?? [])].filter(valid);
    try {
      Object.defineProperty(navigator, "language", { value: fallback, configurable: true });
      Object.defineProperty(navigator, "languages", { value: Object.freeze(languages.length ? languages : [fallback]), configurable: true });
    } catch {
      // A browser that refuses: the chart library's failure is then reported by the page.
    }
  }

  // Errors of the scripts that follow (the chart library's, above all), for the page to quote
  // when it says what failed.
  const errors = [];
  window.__initlabLoadErrors = errors;
  addEventListener("error", (event) => {
    if (errors.length < 20) errors.push(String(event.error ?? event.message));
  });
})();
