// The buyer's "Return or exchange" flow (GET /return/{gtin}/{serial}): our own code, no library, no CDN.
// Connect any EIP-1193 wallet (eth_requestAccounts), describe the problem, see the options the gateway
// computed from the chain for the connected account (only the order's buyer gets them), confirm the
// on-chain reason and the amounts, sign the prefilled EIP-712 message (eth_signTypedData_v4 with the types
// /v1/eip712 publishes), post it to the gateway's intake and follow its status here.
// Everything is written with textContent: nothing the gateway or the buyer sends becomes markup.
(function () {
  "use strict";

  var main = document.getElementById("return-flow");
  var unit = { gtin: main.dataset.gtin, serial: main.dataset.serial };
  var account = null;
  var chosen = null;

  function $(id) { return document.getElementById(id); }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function say(id, text, bad) {
    var node = $(id);
    node.textContent = text;
    node.className = bad ? "status bad" : "status";
  }

  function provider() {
    if (!window.ethereum || typeof window.ethereum.request !== "function") {
      throw new Error("No wallet found: open this page in a wallet's browser or install a wallet extension.");
    }
    return window.ethereum;
  }

  // Base units as a decimal amount: the native coin has 18 decimals (a token's are its own: shown raw).
  function amount(value, currency) {
    if (value === null || value === undefined) return "";
    if (currency !== "native") return value + " base units of " + currency;
    var digits = String(value).padStart(19, "0");
    var whole = digits.slice(0, -18).replace(/^0+(?=\d)/, "");
    var frac = digits.slice(-18).replace(/0+$/, "");
    return whole + (frac ? "." + frac : "") + " ETH";
  }

  function when(seconds) {
    return seconds ? new Date(seconds * 1000).toUTCString() : "";
  }

  async function json(response) {
    var body = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      var error = new Error(typeof body.detail === "string" ? body.detail : response.statusText);
      error.code = body.error;
      throw error;
    }
    return body;
  }

  async function connect() {
    try {
      var accounts = await provider().request({ method: "eth_requestAccounts" });
      account = accounts[0];
      say("wallet-status", "Connected: " + account);
      $("assess").disabled = false;
    } catch (e) {
      say("wallet-status", e.message, true);
    }
  }

  async function assessText() {
    say("assess-status", "Reading…");
    $("options").replaceChildren();
    $("confirm").hidden = true;
    try {
      var data = await json(await fetch("/v1/assistant/assess", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: $("text").value, unit: unit, buyer: account, person: $("person").checked }),
      }));
      showAssessment(data);
    } catch (e) {
      if (e.code === "not_buyer") {
        say("assess-status", "This wallet did not buy this unit: only its buyer sees the return options. " +
          "The unit's history stays on its page.", true);
      } else {
        say("assess-status", e.message, true);
      }
    }
  }

  function showAssessment(data) {
    var lines = [];
    lines.push(data.reason ? "Reason: " + data.reason.replace(/_/g, " ") + " (language " + data.language + ")"
      : "The assistant could not tell the reason (language " + data.language + ").");
    if (data.handoff.needed) {
      lines.push((data.handoff.urgent ? "Urgent: " : "") + "a person from the shop will answer you (" +
        data.handoff.why.join(", ").replace(/_/g, " ") + ").");
    }
    if (data.optionsWhy) lines.push("Why no other option: " + data.optionsWhy.replace(/_/g, " ") + ".");
    say("assess-status", lines.join(" "));
    var list = $("options");
    data.options.forEach(function (option, i) {
      var item = el("li", null, "card option");
      item.appendChild(el("h3", option.title));
      if (option.statutory) item.appendChild(el("p", "Your legal right.", "em"));
      item.appendChild(el("p", option.must));
      var gets = option.gets;
      if (gets && gets.byGrade) {
        var table = el("table", null, "grades");
        gets.byGrade.forEach(function (g) {
          var row = el("tr");
          row.appendChild(el("th", "Grade " + g.grade + " (" + g.condition + ")"));
          var value = g.voucher !== undefined ? "store points worth " + amount(g.voucher, gets.currency)
            : amount(g.refund, gets.currency) +
              (g.points && g.points !== "0" ? " + store points worth " + amount(g.points, gets.currency) : "");
          row.appendChild(el("td", value));
          table.appendChild(row);
        });
        item.appendChild(table);
      } else if (gets && gets.refund !== undefined) {
        item.appendChild(el("p", "Refund: " + amount(gets.refund, gets.currency)));
      } else if (gets && gets.replacementUnit) {
        item.appendChild(el("p", "A replacement unit is sent to you."));
      }
      if (option.deadline) item.appendChild(el("p", "Until " + when(option.deadline), "small"));
      if (option.withdrawalForm) {
        var link = el("a", "The EU model withdrawal form");
        link.href = "#withdrawal-form";
        item.appendChild(link);
      }
      if (option.message && option.message.typedData) {
        var button = el("button", "Choose");
        button.type = "button";
        button.id = "choose-" + option.kind;
        button.addEventListener("click", function () { choose(option); });
        item.appendChild(button);
      }
      list.appendChild(item);
    });
  }

  function choose(option) {
    chosen = option;
    var message = option.message;
    $("confirm").hidden = false;
    $("confirm-title").textContent = option.title;
    var facts = $("confirm-facts");
    facts.replaceChildren();
    function fact(term, value) {
      facts.appendChild(el("dt", term));
      facts.appendChild(el("dd", value));
    }
    if (message.kind === "ReturnRequest") {
      fact("Reason recorded on the blockchain", message.reason.name.replace(/_/g, " ") +
        (message.reason.name === "withdrawal" ? " (no reason given: none is needed)" : ""));
      fact("Remedy", message.remedy === "exchange" ? "store points (exchange)" : "refund");
    }
    fact("Order", String(message.typedData.message.orderId));
    fact("Signed by", message.typedData.message.buyer);
    $("evidence-row").hidden = !(message.fill && message.fill.indexOf("evidence") >= 0);
    $("sign").disabled = false;
  }

  async function uploadEvidence() {
    var file = $("evidence").files[0];
    if (!file) throw new Error("Add a photo of the problem first.");
    var form = new FormData();
    form.append("file", file, file.name);
    var stored = await json(await fetch("/v1/evidence", { method: "POST", body: form }));
    return stored.digest;
  }

  async function sign() {
    $("sign").disabled = true;
    try {
      var message = chosen.message;
      var typed = JSON.parse(JSON.stringify(message.typedData));
      if (message.fill && message.fill.indexOf("evidence") >= 0) typed.message.evidence = await uploadEvidence();
      say("send-status", "Sign the request in your wallet…");
      var signature = await provider().request({
        method: "eth_signTypedData_v4",
        params: [account, JSON.stringify(typed)],
      });
      var body = Object.assign({}, typed.message, { signature: signature });
      var sent = await json(await fetch(message.post, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }));
      follow(sent.id);
    } catch (e) {
      say("send-status", e.message, true);
      $("sign").disabled = false;
    }
  }

  async function follow(id) {
    var labels = {
      accepted: "Accepted by the gateway, waiting to be sent to the blockchain…",
      submitted: "Sent to the blockchain, waiting for it to be recorded…",
      confirmed: "Recorded on the blockchain.",
      failed: "The blockchain refused it",
    };
    for (;;) {
      var state = await json(await fetch("/v1/messages/" + id));
      var text = labels[state.status] || state.status;
      if (state.status === "failed") text += ": " + state.error;
      if (state.status === "confirmed") text += " Block " + state.block + ".";
      say("send-status", text, state.status === "failed");
      $("send-status").dataset.state = state.status;
      if (state.status === "confirmed" || state.status === "failed") return;
      await new Promise(function (resolve) { setTimeout(resolve, 1000); });
    }
  }

  $("connect").addEventListener("click", connect);
  $("assess").addEventListener("click", assessText);
  $("sign").addEventListener("click", sign);
  main.dataset.ready = "1";
})();
