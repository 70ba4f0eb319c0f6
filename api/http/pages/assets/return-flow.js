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
  var page = window.rtPage(main);  // the pieces shared with the station (wallet.js)
  var $ = page.$, el = page.el, t = page.t, say = page.say, provider = page.provider;
  var amount = page.amount, when = page.when, json = page.json, words = page.words;
  var unit = { gtin: main.dataset.gtin, serial: main.dataset.serial };
  var account = null;
  var chosen = null;
  var assessed = null; // the reason code of the last assessment, as the buyer saw it

  // A code as the buyer reads it ("reason.size_fit" -> "size or fit"), or the code itself when it has no words.
  function label(kind, code) {
    var key = kind + "." + code;
    return Object.prototype.hasOwnProperty.call(words, key) ? words[key] : code.replace(/_/g, " ");
  }

  async function connect() {
    try {
      var accounts = await provider().request({ method: "eth_requestAccounts" });
      account = accounts[0];
      say("wallet-status", t("signingIn", { account: account }));
      await page.signIn(account);  // the order's amounts are its buyer's to see
      say("wallet-status", t("signedIn", { account: account }));
      page.showSignedIn(account, null);  // its role once the gateway says (the options: the buyer's only)
      $("assess").disabled = false;
      offerRating();
    } catch (e) {
      say("wallet-status", e.message, true);
    }
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
        page.showSignedIn(account, null);
      } else if (e.code && Object.prototype.hasOwnProperty.call(words, "error." + e.code)) {
        say("assess-status", t("error." + e.code), true);
      } else {
        say("assess-status", e.message, true);
      }
    }
  }

  function showAssessment(data) {
    assessed = data.reason;
    if (data.options.length) page.showSignedIn(account, "buyer");
    var lines = [];
    lines.push(data.reason ? t("reason", { reason: label("reason", data.reason), language: data.language })
      : t("noReason", { language: data.language }));
    if (data.handoff.needed) {
      lines.push(t(data.handoff.urgent ? "handoffUrgent" : "handoff",
        { why: data.handoff.why.map(function (w) { return label("why", w); }).join(", ") }));
    }
    if (data.case) {
      lines.push(t(data.case.textKept ? "caseKept" : "case", { id: data.case.id, due: when(data.case.dueAt) }));
    }
    if (data.optionsWhy) lines.push(t("optionsWhy", { why: label("why", data.optionsWhy) }));
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
      var reason = label("onchain", message.reason.name);
      fact(t("reasonRecorded"), message.reason.name === "withdrawal" ? t("withdrawalNoReason", { reason: reason })
        : reason);
      fact(t("remedy"), t(message.remedy === "exchange" ? "remedyExchange" : "remedyRefund"));
    }
    fact(t("order"), String(message.typedData.message.orderId));
    fact(t("signedBy"), message.typedData.message.buyer);
    $("evidence-row").hidden = !(message.fill && message.fill.indexOf("evidence") >= 0);
    $("sign").disabled = false;
  }

  // The buyer's photo is private to the order (its parties and auditors read it), never public evidence.
  async function uploadEvidence(orderId) {
    var file = $("evidence").files[0];
    if (!file) throw new Error(t("needPhoto"));
    return (await page.upload(file, file.name, orderId)).digest;
  }

  async function sign() {
    $("sign").disabled = true;
    try {
      var message = chosen.message;
      var typed = JSON.parse(JSON.stringify(message.typedData));
      if (message.fill && message.fill.indexOf("evidence") >= 0) typed.message.evidence = await uploadEvidence(typed.message.orderId);
      say("send-status", t("signInWallet"));
      var sent = await page.signAndPost(account, message, typed);
      if (message.kind === "ReturnRequest" && assessed) recordCode(typed.message.orderId, assessed);
      page.follow(sent.id, "send-status");
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


  // The one-tap rating, once the order is settled: a SatisfactionRating document the buyer signs
  // (eth_signTypedData_v4 with the documents' types from /v1/eip712), posted to /v1/documents. The
  // gateway takes it from the order's buyer only; a later one replaces an earlier one.
  var RATABLE = ["settled", "refunded", "completed", "cancelled", "reissued"];
  var rated = null;
  // A document is dated by the chain's clock (the gateway refuses one issued ahead of it): the page's
  // chain time plus the seconds since the page loaded, never the device's own clock.
  var loaded = Date.now();
  function chainNow() {
    return Number(main.dataset.chainTime) + Math.floor((Date.now() - loaded) / 1000);
  }

  async function offerRating() {
    try {
      var view = await json(await fetch(main.dataset.unitPage, { headers: { accept: "application/json" } }));
      var rs = view.returnStatus || view.return_status;
      if (!rs || RATABLE.indexOf(rs.status) < 0) return;
      rated = rs.orderId || rs.order_id;
      $("rating").hidden = false;
    } catch (e) {
      return; // no rating offered: the rest of the flow is unaffected
    }
  }

  async function rate(score) {
    var buttons = document.querySelectorAll("#rating button");
    buttons.forEach(function (b) { b.disabled = true; });
    try {
      var types = (await json(await fetch("/v1/eip712"))).documents.SatisfactionRating;
      var message = {
        buyer: account, orderId: rated, score: score, signer: account, issuedAt: chainNow(),
      };
      var typed = { types: types.types, domain: types.domain, primaryType: "SatisfactionRating", message: message };
      say("rating-status", t("signInWallet"));
      var signature = await provider().request({
        method: "eth_signTypedData_v4",
        params: [account, JSON.stringify(typed)],
      });
      await json(await fetch(types.post, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: message, signature: signature }),
      }));
      say("rating-status", t("rated", { score: score }));
      $("rating-status").dataset.state = "rated";
    } catch (e) {
      say("rating-status", e.code === "not_buyer" ? t("notBuyer") : e.message, true);
    }
    buttons.forEach(function (b) { b.disabled = false; });
  }

  document.querySelectorAll("#rating button").forEach(function (button) {
    button.addEventListener("click", function () { rate(Number(button.dataset.score)); });
  });
  $("connect").addEventListener("click", connect);
  $("assess").addEventListener("click", assessText);
  $("sign").addEventListener("click", sign);
  main.dataset.ready = "1";
})();
