// The pieces the pages' scripts share (the return flow, the inspection station): our own code, no library,
// no CDN. A page's root element carries its words (data-text, JSON in the page's language); everything is
// written with textContent, so nothing the gateway or a person sends becomes markup.
//   var page = rtPage(document.getElementById("return-flow"));
//   page.t(key, values), page.say(id, text, bad), page.el(tag, text, cls), page.amount(value, currency),
//   page.when(seconds), page.json(response), page.provider(), page.upload(blob, name, order?), page.signIn(account),
//   page.signAndPost(account, message, typed), page.follow(id, statusId, done), page.showSignedIn(account, role)
(function () {
  "use strict";

  window.rtPage = function (root) {
    var words = JSON.parse(root.dataset.text);

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

    // Stores `blob` as evidence (POST /v1/evidence): its {cid, digest, ...}; the digest is what goes on chain.
    // With `order`, the file is private to that order's parties (a buyer's photo: the digest that goes on chain
    // names its CID, so public evidence would be anyone's to fetch); without, public lifecycle evidence.
    async function upload(blob, name, order) {
      var form = new FormData();
      form.append("file", blob, name);
      var url = order === undefined ? "/v1/evidence" : "/v1/evidence?order=" + encodeURIComponent(String(order));
      return json(await fetch(url, { method: "POST", body: form }));
    }

    // Sign-In with Ethereum: the gateway writes the EIP-4361 text, the wallet signs it (personal_sign),
    // the gateway sets the session cookie the private reads need.
    async function signIn(account) {
      var nonce = await json(await fetch("/v1/auth/nonce?address=" + encodeURIComponent(account)));
      var signature = await provider().request({ method: "personal_sign", params: [nonce.message, account] });
      await json(await fetch("/v1/auth/siwe", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: nonce.message, signature: signature }),
      }));
    }

    // Who is signed in, in the page's bar (templates/signed_in.html: its "Sign out" is a plain form to the
    // gateway), once the page's script signed in: the account shortened (whole in the title) and the role the
    // page acts on (words "role.<key>"; none: the account alone).
    function showSignedIn(account, role) {
      var bar = $("signed-in");
      if (!bar) return;
      var shown = $("signed-in-account");
      shown.textContent = account.length > 12 ? account.slice(0, 6) + "\u2026" + account.slice(-4) : account;
      shown.title = account;
      var key = "role." + role;
      var text = role && Object.prototype.hasOwnProperty.call(words, key) ? words[key] : "";
      $("signed-in-role").textContent = text;
      $("signed-in-role").dataset.role = text ? role : "";
      $("signed-in-role-sep").hidden = !text;
      bar.hidden = false;
    }

    // Signs `typed` (eth_signTypedData_v4 JSON, filled in) as `account` and posts it where `message` says:
    // the gateway's answer (its message id).
    async function signAndPost(account, message, typed) {
      var signature = await provider().request({
        method: "eth_signTypedData_v4",
        params: [account, JSON.stringify(typed)],
      });
      var body = Object.assign({}, typed.message, { signature: signature });
      return json(await fetch(message.post, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }));
    }

    // Follows message `id` until it is recorded or refused, saying each state in `statusId` (its
    // data-state too); `done(state)` once it ends.
    async function follow(id, statusId, done) {
      for (;;) {
        var state = await json(await fetch("/v1/messages/" + id));
        var known = ["accepted", "submitted", "confirmed", "failed"].indexOf(state.status) >= 0;
        var text = known ? t(state.status, { block: state.block, error: state.error }) : state.status;
        say(statusId, text, state.status === "failed");
        $(statusId).dataset.state = state.status;
        if (state.status === "confirmed" || state.status === "failed") {
          if (done) done(state);
          return state;
        }
        await new Promise(function (resolve) { setTimeout(resolve, 1000); });
      }
    }

    return {
      words: words, $: $, el: el, t: t, say: say, provider: provider, amount: amount, when: when, json: json,
      upload: upload, signIn: signIn, signAndPost: signAndPost, follow: follow, showSignedIn: showSignedIn,
    };
  };
})();
