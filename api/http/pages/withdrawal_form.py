"""The EU model withdrawal form, Directive 2011/83/EU Annex I(B), in the Directive's language versions
(EUR-Lex, CELEX 32011L0083) for the pages' EU languages; the trader's details are the shop's to fill in, the
consumer deletes what does not apply. Chinese is not an official EU language: a Chinese page shows the
English text and says so.

Provenance: the English text is the Directive's; the German and French ones match their countries'
transpositions word for word (EGBGB Anlage 2; Code de la consommation, annex to art. R. 221-1), which keep
the Directive's wording; the Spanish one was transcribed without a copy to compare with:
docs/contributors.md lists it for a check against EUR-Lex before a release."""

from __future__ import annotations


def _form(*lines: str) -> str:
    return "\n\n".join(lines)


MODEL_WITHDRAWAL_FORMS: dict[str, str] = {
    "en": _form(
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
    ),
    "de": _form(
        "Muster-Widerrufsformular",
        "(Wenn Sie den Vertrag widerrufen wollen, dann füllen Sie bitte dieses Formular aus und senden Sie es zurück.)",
        "— An [hier ist der Name, die Anschrift und gegebenenfalls die Faxnummer und E-Mail-Adresse des "
        "Unternehmers durch den Unternehmer einzufügen]:",
        "— Hiermit widerrufe(n) ich/wir (*) den von mir/uns (*) abgeschlossenen Vertrag über den Kauf der "
        "folgenden Waren (*)/die Erbringung der folgenden Dienstleistung (*)",
        "— Bestellt am (*)/erhalten am (*)",
        "— Name des/der Verbraucher(s)",
        "— Anschrift des/der Verbraucher(s)",
        "— Unterschrift des/der Verbraucher(s) (nur bei Mitteilung auf Papier)",
        "— Datum",
        "(*) Unzutreffendes streichen.",
    ),
    "fr": _form(
        "Modèle de formulaire de rétractation",
        "(Veuillez compléter et renvoyer le présent formulaire uniquement si vous souhaitez vous rétracter du "
        "contrat.)",
        "— À l'attention de [le professionnel insère ici son nom, son adresse géographique et, lorsqu'ils sont "
        "disponibles, son numéro de télécopieur et son adresse électronique] :",
        "— Je/Nous (*) vous notifie/notifions (*) par la présente ma/notre (*) rétractation du contrat portant sur "
        "la vente du bien (*)/pour la prestation de services (*) ci-dessous :",
        "— Commandé le (*)/reçu le (*) :",
        "— Nom du (des) consommateur(s) :",
        "— Adresse du (des) consommateur(s) :",
        "— Signature du (des) consommateur(s) (uniquement en cas de notification du présent formulaire sur papier) :",
        "— Date :",
        "(*) Rayez la mention inutile.",
    ),
    "es": _form(
        "Modelo de formulario de desistimiento",
        "(sólo debe cumplimentar y enviar el presente formulario si desea desistir del contrato)",
        "— A la atención de [aquí deberá el empresario indicar el nombre, la dirección completa y, si procede, "
        "el número de fax y la dirección de correo electrónico]:",
        "— Por la presente le comunico/comunicamos (*) que desisto de mi/desistimos de nuestro (*) contrato de "
        "venta del siguiente bien/prestación del siguiente servicio (*)",
        "— Pedido el/recibido el (*)",
        "— Nombre del consumidor o de los consumidores",
        "— Domicilio del consumidor o de los consumidores",
        "— Firma del consumidor o de los consumidores (solo si el presente formulario se presenta en papel)",
        "— Fecha",
        "(*) Táchese lo que no proceda.",
    ),
}
# The English text: for a page language the Directive has no version in.
MODEL_WITHDRAWAL_FORM = MODEL_WITHDRAWAL_FORMS["en"]


def withdrawal_form(language: str) -> tuple[str, str]:
    """The form in `language` (an ISO 639-1 code) when the Directive has it, else in English: (code, text)."""
    shown = language if language in MODEL_WITHDRAWAL_FORMS else "en"
    return shown, MODEL_WITHDRAWAL_FORMS[shown]
