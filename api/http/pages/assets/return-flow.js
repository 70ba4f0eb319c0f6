// The buyer's "Return or exchange" flow (GET /return/{gtin}/{serial}): our own code, no library, no CDN.
// Connect any EIP-1193 wallet (eth_requestAccounts) and sign in with it (Sign-In with Ethereum: the
// gateway writes the EIP-4361 text, the wallet signs it with personal_sign, the gateway sets a session
// cookie), describe the problem, see the options the gateway computed from the chain for the signed-in
// account (only the order's buyer gets them), confirm the
// on-chain reason and the amounts, sign the prefilled EIP-712 message (eth_signTypedData_v4 with the types
// /v1/eip712 publishes), post it to the gateway's intake and follow its status here.
// Everything is written with textContent: nothing the gateway or the buyer sends becomes markup.
// The script's own words come from the page, in its language (its data-text: pages/return_flow_text.py).
(function () {
  "use strict";

  var main = document.getElementById("return-flow");
  var unit = { gtin: main.dataset.gtin, serial: main.dataset.serial };
  var words = JSON.parse(main.dataset.text);
  var account = null;
  var chosen = null;
  var assessed = null; // the reason code of the last assessment, as the buyer saw it

  function $(id) { return document.getElementById(id); }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  // The page's words for `key`, with its {name} placeholders filled (plain text: written with textContent).
  function t(key, values) {
    return words[key].replace(/\{(\w+)\}/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function say(id, text, bad) {
    var node = $(id);
    node.textContent = text;
    node.className = bad ? "status bad" : "status";
  }

  function provider() {
    if (!window.ethereum || typeof window.ethereum.request !== "function") {
      throw new Error(t("noWallet"));
    }
    return window.ethereum;
  }

  // Base units as a decimal amount: the native coin has 18 decimals (a token's are its own: shown raw).
  function amount(value, currency) {
    if (value === null || value === undefined) return "";
    if (currency !== "native") return t("baseUnits", { value: value, currency: currency });
    var digits = String(value).padStart(19, "0");
    var whole = digits.slice(0, -18).replace(/^0+(?=\d)/, "");
    var frac = digits.slice(-18).replace(/0+$/, "");
    return whole + (frac ? "." + frac : "") + " ETH";
  }

  // A time in the page's language (its <html lang>), in UTC as the chain keeps it.
  function when(seconds) {
    if (!seconds) return "";
    var options = { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" };
    return new Date(seconds * 1000).toLocaleString(document.documentElement.lang || "en", options) + " UTC";
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
      say("wallet-status", t("signingIn", { account: account }));
      await signIn();
      say("wallet-status", t("signedIn", { account: account }));
      $("assess").disabled = false;
    } catch (e) {
      say("wallet-status", e.message, true);
    }
  }

  // The order's amounts are its buyer's to see: the gateway answers them to a signed-in session only.
  async function signIn() {
    var nonce = await json(await fetch("/v1/auth/nonce?address=" + encodeURIComponent(account)));
    var signature = await provider().request({ method: "personal_sign", params: [nonce.message, account] });
    await json(await fetch("/v1/auth/siwe", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: nonce.message, signature: signature }),
    }));
  }

  async function assessText() {
    say("assess-status", t("reading"));
    $("options").replaceChildren();
    $("confirm").hidden = true;
    try {
      var data = await json(await fetch("/v1/assistant/assess", {
        method: "POST",
        // The options' words in the page's language, not only the browser's.
        headers: { "content-type": "application/json", "accept-language": document.documentElement.lang || "en" },
        body: JSON.stringify({ text: $("text").value, unit: unit, buyer: account, person: $("person").checked }),
      }));
      showAssessment(data);
    } catch (e) {
      if (e.code === "not_buyer") {
        say("assess-status", t("notBuyer"), true);
      } else {
        say("assess-status", e.message, true);
      }
    }
  }

  function showAssessment(data) {
    assessed = data.reason;
    var lines = [];
    lines.push(data.reason ? t("reason", { reason: data.reason.replace(/_/g, " "), language: data.language })
      : t("noReason", { language: data.language }));
    if (data.handoff.needed) {
      lines.push(t(data.handoff.urgent ? "handoffUrgent" : "handoff",
        { why: data.handoff.why.join(", ").replace(/_/g, " ") }));
    }
    if (data.case) {
      lines.push(t(data.case.textKept ? "caseKept" : "case", { id: data.case.id, due: when(data.case.dueAt) }));
    }
    if (data.optionsWhy) lines.push(t("optionsWhy", { why: data.optionsWhy.replace(/_/g, " ") }));
    say("assess-status", lines.join(" "));
    var list = $("options");
    data.options.forEach(function (option, i) {
      var item = el("li", null, "card option");
      item.appendChild(el("h3", option.title));
      if (option.statutory) item.appendChild(el("p", t("legalRight"), "em"));
      item.appendChild(el("p", option.must));
      var gets = option.gets;
      if (gets && gets.byGrade) {
        var table = el("table", null, "grades");
        gets.byGrade.forEach(function (g) {
          var row = el("tr");
          row.appendChild(el("th", t("grade", { grade: g.grade, condition: g.condition })));
          var value = g.voucher !== undefined ? t("pointsWorth", { amount: amount(g.voucher, gets.currency) })
            : g.points && g.points !== "0"
              ? t("refundPlusPoints", { refund: amount(g.refund, gets.currency), points: amount(g.points, gets.currency) })
              : amount(g.refund, gets.currency);
          row.appendChild(el("td", value));
          table.appendChild(row);
        });
        item.appendChild(table);
      } else if (gets && gets.refund !== undefined) {
        item.appendChild(el("p", t("refund", { amount: amount(gets.refund, gets.currency) })));
      } else if (gets && gets.replacementUnit) {
        item.appendChild(el("p", t("replacement")));
      }
      if (option.deadline) item.appendChild(el("p", t("until", { time: when(option.deadline) }), "small"));
      if (option.withdrawalForm) {
        var link = el("a", t("withdrawalForm"));
        link.href = "#withdrawal-form";
        item.appendChild(link);
      }
      if (option.message && option.message.typedData) {
        var button = el("button", t("choose"));
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
      var reason = message.reason.name.replace(/_/g, " ");
      fact(t("reasonRecorded"), message.reason.name === "withdrawal" ? t("withdrawalNoReason", { reason: reason })
        : reason);
      fact(t("remedy"), t(message.remedy === "exchange" ? "remedyExchange" : "remedyRefund"));
    }
    fact(t("order"), String(message.typedData.message.orderId));
    fact(t("signedBy"), message.typedData.message.buyer);
    $("evidence-row").hidden = !(message.fill && message.fill.indexOf("evidence") >= 0);
    $("sign").disabled = false;
  }

  async function uploadEvidence() {
    var file = $("evidence").files[0];
    if (!file) throw new Error(t("needPhoto"));
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
      say("send-status", t("signInWallet"));
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
      if (message.kind === "ReturnRequest" && assessed) recordCode(typed.message.orderId, assessed);
      follow(sent.id);
    } catch (e) {
      say("send-status", e.message, true);
      $("sign").disabled = false;
    }
  }

  // The reason code the buyer confirmed, kept by the gateway for the brand's analytics (the code only, never
  // the words; docs/people.md). Nothing depends on it: a refusal leaves the signed request as it is.
  async function recordCode(orderId, code) {
    try {
      await fetch("/v1/orders/" + orderId + "/reason-code", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code: code }),
      });
    } catch (e) { /* the analytics fall back to the on-chain reason */ }
  }

  async function follow(id) {
    for (;;) {
      var state = await json(await fetch("/v1/messages/" + id));
      var known = ["accepted", "submitted", "confirmed", "failed"].indexOf(state.status) >= 0;
      var text = known ? t(state.status, { block: state.block, error: state.error }) : state.status;
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
