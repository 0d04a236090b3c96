// Artillery processor for bench/artillery.py.
//
// One `chat` step sends a message and waits for both of its answers, `sent`
// and the sender's own `msg` echo (which it acks), timing each with
// artillery's histograms (its clock, its percentiles). It is a function step
// rather than send/wait steps because the IM server answers one send with two
// frames and artillery's ws engine calls a step's callback again when a
// second frame reaches the same handler ("Callback was already called").
"use strict";

const crypto = require("node:crypto");

const TIMEOUT_MS = 10000;

function chat(context, events, done) {
  const ws = context.ws;
  const conv = context.vars.conv;
  const cmid = crypto.randomBytes(8).toString("hex");
  const t0 = process.hrtime.bigint();
  const elapsedMs = () => Number(process.hrtime.bigint() - t0) / 1e6;
  let gotSent = false;
  let gotMsg = false;
  ws.onmessage = undefined; // drop the handler a previous send/match step left behind

  const finish = (err) => {
    clearTimeout(timer);
    ws.removeListener("message", onMessage);
    return done(err);
  };
  const timer = setTimeout(() => {
    events.emit("counter", "im.timeouts", 1);
    finish();
  }, TIMEOUT_MS);

  function onMessage(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (_err) {
      return;
    }
    if ((frame.cmid ?? frame.ref) !== cmid) return; // not an answer to this send
    if (frame.type === "sent" && !gotSent) {
      gotSent = true;
      events.emit("histogram", "im.send_to_sent_ms", elapsedMs());
    } else if (frame.type === "msg" && !gotMsg) {
      gotMsg = true;
      events.emit("histogram", "im.send_to_msg_ms", elapsedMs());
      ws.send(JSON.stringify({ type: "ack", conv, seq: frame.seq }));
    } else if (frame.type === "error") {
      events.emit("counter", `im.error.${frame.code}`, 1);
      return finish();
    }
    if (gotSent && gotMsg) finish();
  }

  ws.on("message", onMessage);
  ws.send(JSON.stringify({ type: "send", cmid, conv, body: { text: "artillery" } }));
}

module.exports = { chat };
