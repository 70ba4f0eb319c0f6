// The inspection station (GET /station): our own code, no library, no CDN; the shared pieces are wallet.js.
// An inspector connects an EIP-1193 wallet and signs in (Sign-In with Ethereum), scans the returned unit
// (the camera where the browser reads barcodes, else a scanner or the keyboard into the text field: a GS1
// element string, a raw barcode with GS separators, a Digital Link URL, or "GTIN serial"), sees its verified
// history (the unit's JSON view) and the order's grade terms, ticks the facts, adds photos (stored as
// evidence, CIDs shown), sees the grade the contract derives and what the buyer and the merchant get (GET
// /v1/inspection-preview: the escrow's own quote), signs the prefilled INSPECTING scan and Inspection
// (eth_signTypedData_v4, both naming the same evidence), posts them and follows them until the order's new
// state is indexed.
(function () {
  "use strict";

  var main = document.getElementById("station");
  var page = window.rtPage(main);
  var $ = page.$, el = page.el, t = page.t, say = page.say;
  var GS = "\u001d";
  var account = null;
  var unit = null; // {gtin, serial, view}
  var preview = null;
  var photos = []; // CIDs of the uploaded photos, in order
  var asking = 0; // the latest preview asked for (answers may come back out of order)

  // The GTIN and serial of a scanned or typed code, or null.
  function parseCode(raw) {
    var code = raw.trim().replace(/^\][A-Za-z]\d/, ""); // a scanner's symbology identifier (]d2, ]C1, ]Q3)
    var link = code.match(/\/01\/(\d{8,14})\/21\/([^/?#]+)/);
    if (link) return { gtin: link[1], serial: decodeURIComponent(link[2]) };
    if (code.charAt(0) === "(") {
      var gtin = code.match(/\(01\)(\d{14})/), serial = code.match(/\(21\)([^(]+)/);
      return gtin && serial ? { gtin: gtin[1], serial: serial[1] } : null;
    }
    var typed = code.match(/^(\d{8,14})\s+(\S+)$/);
    if (typed) return { gtin: typed[1], serial: typed[2] };
    return parseElements(code);
  }

  // A raw element string (FNC1 as GS): AI 01 and 21, skipping the fixed-length dates and variable lots.
  function parseElements(code) {
    var fixed = { "01": 14, "11": 6, "13": 6, "15": 6, "17": 6 };
    var found = {};
    var i = 0;
    while (i < code.length) {
      if (code.charAt(i) === GS) { i += 1; continue; }
      var ai = code.substr(i, 2);
      if (fixed[ai]) {
        found[ai] = code.substr(i + 2, fixed[ai]);
        i += 2 + fixed[ai];
      } else if (ai === "21" || ai === "10") {
        var end = code.indexOf(GS, i + 2);
        if (end < 0) end = code.length;
        found[ai] = code.slice(i + 2, end);
        i = end;
      } else {
        return null;
      }
    }
    return found["01"] && found["21"] ? { gtin: found["01"], serial: found["21"] } : null;
  }

  function factsBits() {
    var bits = 0;
    document.querySelectorAll("input.fact").forEach(function (box) { if (box.checked) bits |= Number(box.value); });
    return bits;
  }

  // A decimal amount in the order's currency as base units (the native coin: 18 decimals; a token: raw).
  function baseUnits(text, currency) {
    var value = text.trim() || "0";
    if (currency !== "native") return /^\d+$/.test(value) ? value : "0";
    var parts = value.match(/^(\d*)(?:[.,](\d{0,18}))?$/);
    if (!parts) return "0";
    var digits = (parts[1] || "0") + (parts[2] || "").padEnd(18, "0");
    return digits.replace(/^0+(?=\d)/, "");
  }

  async function connect() {
    try {
      var accounts = await page.provider().request({ method: "eth_requestAccounts" });
      account = accounts[0];
      say("wallet-status", t("signingIn", { account: account }));
      await page.signIn(account);
      say("wallet-status", t("signedIn", { account: account }));
      $("find").disabled = false;
      showWho();
    } catch (e) {
      say("wallet-status", e.message, true);
    }
  }

  // Who is signed in, beside "Sign out": a tablet shared by a shift shows whose session it holds, and whether
  // the gateway reads it as an accredited inspector (roles bit 8); without an answer, the account alone.
  async function showWho() {
    try {
      var session = await page.json(await fetch("/v1/auth/session"));
      page.showSignedIn(session.account, session.roles & 8 ? "inspector" : "not_inspector");
    } catch (e) {
      page.showSignedIn(account, null);
    }
  }

  async function find() {
    var code = parseCode($("code").value);
    $("unit").hidden = true;
    $("inspect").hidden = true;
    if (!code) { say("unit-status", t("badCode"), true); return; }
    say("unit-status", t("reading"));
    try {
      var path = "/01/" + encodeURIComponent(code.gtin) + "/21/" + encodeURIComponent(code.serial);
      var view = await page.json(await fetch(path, { headers: { accept: "application/json" } }));
      unit = { gtin: view.gtin, serial: view.serial, view: view };
      photos = [];
      $("cids").replaceChildren();
      showUnit(view);
      await refresh();
      say("unit-status", "");
      $("inspect").hidden = false;
    } catch (e) {
      say("unit-status", e.message, true);
    }
  }

  function showUnit(view) {
    $("unit").hidden = false;
    $("unit-line").textContent = t("unit", { gtin: view.gtin, serial: view.serial });
    var v = view.verification;
    say("verified", v.verified ? t("verified", { block: v.block }) : t("notVerified", { reason: v.reason }), !v.verified);
    var list = $("history");
    list.replaceChildren();
    view.timeline.forEach(function (e) {
      list.appendChild(el("li", t("step", {
        time: page.when(e.event_time), step: e.step.replace(/_/g, " "), role: e.signer_role, location: e.location,
      })));
    });
  }

  function showTerms(p) {
    var list = $("terms");
    list.replaceChildren();
    p.terms.byGrade.forEach(function (g) {
      list.appendChild(el("li", t("terms", {
        grade: g.grade, refund: g.refundBps / 100 + "%", points: g.pointsBps / 100 + "%",
        payer: t(g.merchantPaysReturnShipping ? "payerMerchant" : "payerBuyer"), fate: g.disposition,
      })));
    });
  }

  // The preview for the ticked facts, read from the chain through the gateway.
  async function refresh() {
    var bits = factsBits();
    $("diminished-row").hidden = !(bits & 4);
    var currency = preview ? preview.currency : "native";
    var diminished = bits & 4 ? baseUnits($("diminished").value, currency) : "0";
    var query = "?gtin=" + encodeURIComponent(unit.gtin) + "&serial=" + encodeURIComponent(unit.serial) +
      "&facts=" + bits + "&diminishedValue=" + diminished;
    $("sign").disabled = true;
    var asked = ++asking;
    var answer = await page.json(await fetch("/v1/inspection-preview" + query));
    if (asked !== asking) return; // a later tick asked again: only the latest answer is shown
    preview = answer;
    $("order-line").textContent = t("order", { order: preview.orderId, status: preview.status.replace(/_/g, " ") });
    showTerms(preview);
    $("grade").textContent = t("grade", { grade: preview.grade });
    $("grade").dataset.grade = preview.grade;
    var b = preview.buyer;
    $("buyer-gets").textContent = b.points !== "0"
      ? t("buyerGetsPoints", { refund: page.amount(b.refund, preview.currency), points: page.amount(b.points, preview.currency) })
      : t("buyerGets", { refund: page.amount(b.refund, preview.currency) });
    $("merchant-gets").textContent = t("merchantGets", { amount: page.amount(preview.merchant.amount, preview.currency) });
    $("statutory").textContent = preview.statutory ? t("statutory") : "";
    var then = { settles: "thenSettles", buyer_may_contest: "thenContest", second_opinion: "thenSecond",
      disposition_only: "thenDisposition" }[preview.then];
    $("then").textContent = t(then);
    if (preview.message) {
      $("sign").disabled = false;
    } else {
      say("send-status", t("notInspector"), true);
    }
  }

  async function refreshSaying() {
    try { await refresh(); } catch (e) { say("send-status", e.message, true); }
  }

  async function addPhotos() {
    var files = Array.prototype.slice.call($("photos").files);
    for (var i = 0; i < files.length; i += 1) {
      say("send-status", t("uploading", { name: files[i].name }));
      try {
        var stored = await page.upload(files[i], files[i].name);
        photos.push(stored.cid);
        $("cids").appendChild(el("li", t("photo", { name: files[i].name, cid: stored.cid })));
        say("send-status", "");
      } catch (e) {
        say("send-status", e.message, true);
      }
    }
  }

  // The inspection's evidence: one JSON document naming the order, the facts and the photos' CIDs, stored
  // as evidence itself; its digest is the Inspection's `evidence`.
  async function evidence() {
    var record = { orderId: String(preview.orderId), unitId: preview.unitId, facts: preview.facts.bits, photos: photos };
    var blob = new Blob([JSON.stringify(record)], { type: "application/json" });
    var stored = await page.upload(blob, "inspection.json");
    $("cids").appendChild(el("li", t("evidence", { cid: stored.cid })));
    return stored.digest;
  }

  async function sign() {
    $("sign").disabled = true;
    try {
      await refresh(); // the grade, nonce and deadline of the facts as ticked now
      $("sign").disabled = true;
      var digest = await evidence();
      // The pair: the unit's INSPECTING scan, then the attestation, both naming the same evidence.
      var scan = JSON.parse(JSON.stringify(preview.scan.typedData));
      scan.message.events[0].evidence = digest;
      var typed = JSON.parse(JSON.stringify(preview.message.typedData));
      typed.message.evidence = digest;
      say("send-status", t("signScan"));
      var scanned = await page.signAndPost(account, preview.scan, scan);
      say("send-status", t("signInWallet"));
      var sent = await page.signAndPost(account, preview.message, typed);
      var before = preview.status;
      var states = [await page.follow(scanned.id, "scan-status"), await page.follow(sent.id, "send-status")];
      if (states[0].status === "confirmed" && states[1].status === "confirmed") await followOrder(before);
      else $("sign").disabled = false;
    } catch (e) {
      say("send-status", e.message, true);
      $("sign").disabled = false;
    }
  }

  // After the inspection is recorded: the order's new state, once the gateway's index has it.
  async function followOrder(before) {
    var path = "/01/" + encodeURIComponent(unit.gtin) + "/21/" + encodeURIComponent(unit.serial);
    for (;;) {
      var view = await page.json(await fetch(path, { headers: { accept: "application/json" } }));
      var status = view.return_status && view.return_status.status;
      if (status && status !== before) {
        say("order-status", t("settledState", { status: status.replace(/_/g, " ") }));
        $("order-status").dataset.state = status;
        showUnit(view);
        return;
      }
      await new Promise(function (resolve) { setTimeout(resolve, 1000); });
    }
  }

  // The camera, where the browser reads barcodes itself (BarcodeDetector); otherwise the text field.
  async function scanCamera() {
    var video = $("video");
    try {
      var detector = new window.BarcodeDetector({ formats: ["data_matrix", "qr_code", "code_128", "gs1_databar"] });
      var stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      for (;;) {
        var codes = await detector.detect(video);
        if (codes.length) {
          $("code").value = codes[0].rawValue;
          break;
        }
        await new Promise(function (resolve) { setTimeout(resolve, 250); });
      }
      stream.getTracks().forEach(function (track) { track.stop(); });
      video.hidden = true;
      if (account) find();
    } catch (e) {
      video.hidden = true;
      say("unit-status", t("noCamera") + " " + e.message, true);
    }
  }

  $("connect").addEventListener("click", connect);
  $("find").addEventListener("click", find);
  $("code").addEventListener("keydown", function (e) { if (e.key === "Enter" && account) find(); });
  document.querySelectorAll("input.fact").forEach(function (box) { box.addEventListener("change", refreshSaying); });
  $("diminished").addEventListener("change", refreshSaying);
  $("photos").addEventListener("change", addPhotos);
  $("sign").addEventListener("click", sign);
  if (window.BarcodeDetector && navigator.mediaDevices) $("camera").hidden = false;
  $("camera").addEventListener("click", scanCamera);
  main.dataset.ready = "1";
})();
