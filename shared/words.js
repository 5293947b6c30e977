// The words secondline shows, applied to a status document: shared/vocabulary.json's words by its rules.
// One copy for every page that runs JavaScript: the extension (extension/build.mjs copies this file into
// each package; background.js and popup.js build their `words` from it) and the tray's dashboard (the tray
// serves it at /words.js). tray/core/words.py follows the same rules for the tray's own text; both test suites
// check them against vocabulary.json's $examples. Pure: no browser API here.

/** The rules over one vocabulary (the parsed vocabulary.json). */
export function wordsFrom(vocab) {
  const capital = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);
  const word = (key) => vocab.words[key] ?? String(key).replace(/_/g, " ");

  /** A phrase's template with {name} filled in; {Name} puts the value in with a capital first letter. */
  function fill(template, values = {}) {
    return template.replace(/\{(\w+)\}/g, (all, name) => {
      const lower = name[0].toLowerCase() + name.slice(1);
      if (!(lower in values)) return all;
      const v = String(values[lower]);
      return name === lower ? v : capital(v);
    });
  }

  const phrase = (name, values) => fill(vocab.phrases[name], values);
  const label = (key) => capital(word(key));
  const problems = (c) => (c?.critical || 0) + (c?.warning || 0) + (c?.unknown || 0);

  /** "2 critical, 1 warning, 1 handled": every non-zero count, in the vocabulary's order. */
  function countList(counts) {
    return vocab.counts.filter((k) => counts?.[k]).map((k) => phrase("count", { n: counts[k], word: word(k) }))
      .join(vocab.phrases.separator);
  }

  /**
   * The summary in the pieces a page keeps whole on a line ("2 critical" never breaks between number and
   * word); joined by the vocabulary's separator they are summary().
   */
  function summaryParts(state, counts) {
    if (state === "no_data") return [label("no_data")];
    const list = countList(counts);
    if (!problems(counts)) return [list ? phrase("ok_with_handled", { counts: list }) : label("ok")];
    return list.split(vocab.phrases.separator);
  }

  /** The one line for a state and its counts: headlines, the tooltip, a group's line. */
  const summary = (state, counts) => summaryParts(state, counts).join(vocab.phrases.separator);

  /** What one alert is: its severity, "pending", or "handled (reason)". */
  function alertTag(alert) {
    if (alert.handled) {
      const reason = alert.handled_reason && (vocab.handled_reasons[alert.handled_reason] ?? alert.handled_reason);
      return reason ? phrase("handled_tag", { reason }) : word("handled");
    }
    if (alert.pending) return word("pending");
    return word(alert.severity);
  }

  return { vocab, word, label, fill, phrase, countList, summary, summaryParts, alertTag, problems, counts: vocab.counts };
}
