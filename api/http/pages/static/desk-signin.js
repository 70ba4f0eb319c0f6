// The desk's one script: Sign-In with Ethereum through the page's EIP-1193 wallet (window.ethereum).
// The gateway writes the EIP-4361 text for the account (GET /v1/auth/nonce?address=…) and checks all of
// it when it comes back signed (POST /v1/auth/siwe), which sets the session cookie.
"use strict";
(function () {
  var button = document.getElementById("signin");
  var status = document.getElementById("signin-status");
  function say(text) { status.textContent = text; }
  button.addEventListener("click", async function () {
    if (!window.ethereum) { say("No Ethereum wallet in this browser."); return; }
    try {
      var accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
      var nonce = await (await fetch("/v1/auth/nonce?address=" + encodeURIComponent(accounts[0]))).json();
      var signature = await window.ethereum.request({ method: "personal_sign", params: [nonce.message, accounts[0]] });
      var answer = await fetch("/v1/auth/siwe", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: nonce.message, signature: signature }),
      });
      if (!answer.ok) { say("Refused: " + (await answer.json()).detail); return; }
      window.location.reload();
    } catch (e) {
      say("Sign-in failed: " + (e && e.message ? e.message : e));
    }
  });
})();
