// Server-Sent Events parsing for a fetch() body: service workers have no EventSource, so the worker
// reads the stream itself and feeds text chunks in here. Follows the WHATWG event-stream rules that the
// tray uses: "event:", "data:" (joined with "\n"), comments (":" lines) and blank-line dispatch.

export class SseParser {
  constructor() {
    this.buffer = "";
    this.event = "";
    this.data = [];
  }

  /** Feed a decoded chunk; returns the completed items: {type: "event", event, data} or {type: "comment"}. */
  push(chunk) {
    this.buffer += chunk;
    const out = [];
    let nl;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      // A lone "\r" at the end of a chunk may be the first half of "\r\n": wait for more.
      if (this.buffer[nl] === "\r" && nl === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith("\r\n", nl) ? 2 : 1));
      this.line(line, out);
    }
    return out;
  }

  line(line, out) {
    if (line === "") {
      if (this.data.length) out.push({ type: "event", event: this.event || "message", data: this.data.join("\n") });
      this.event = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) {
      out.push({ type: "comment", text: line.slice(1).trim() });
      return;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
  }
}
