"""The EU model withdrawal form, Directive 2011/83/EU Annex I(B), word for word (the trader's details
are the shop's to fill in; the consumer deletes what does not apply)."""

MODEL_WITHDRAWAL_FORM = "\n\n".join(
    (
        "Model withdrawal form",
        "(complete and return this form only if you wish to withdraw from the contract)",
        "— To [here the trader's name, geographical address and, where available, his fax number and e-mail "
        "address are to be inserted by the trader]:",
        "— I/We (*) hereby give notice that I/We (*) withdraw from my/our (*) contract of sale of the following "
        "goods (*)/for the provision of the following service (*),",
        "— Ordered on (*)/received on (*),",
        "— Name of consumer(s),",
        "— Address of consumer(s),",
        "— Signature of consumer(s) (only if this form is notified on paper),",
        "— Date",
        "(*) Delete as appropriate.",
    )
)
