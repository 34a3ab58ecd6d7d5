# Hera auf Deutsch. Jeder Schlüssel aus en.ftl muss hier stehen, mit denselben { $Variablen }
# (ein Test prüft das). Anrede: „Sie“.

## Page frame
site-name = Hera
signed-in-as = Angemeldet als { $account }
opens-in-new-tab = (öffnet in einem neuen Tab)

## Home page
home-title-signed-in = Ihr Konto
home-title-signed-out = Willkommen
home-title-second-factor = Bestätigen Sie, dass Sie es sind
home-connected-apps = Verbundene Anwendungen
home-connected-apps-about = sehen Sie, welche Anwendungen Ihr Konto nutzen dürfen, und entfernen Sie sie
home-sign-out = Abmelden
home-second-factor = Sie sind angemeldet, müssen aber noch mit Ihrem zweiten Faktor bestätigen, dass Sie es sind.
home-signed-out = Sie sind nicht angemeldet.
home-continue = Weiter
home-sign-in = Anmelden

## The application asking (consent page)
client-card-label = Anwendung
client-logo-alt = Logo von { $client }
client-wants-access = { $client } möchte auf Ihr Konto zugreifen.
client-redirect = Danach werden Sie zu { $host } zurückgeleitet
client-website = Website
client-privacy-policy = Datenschutzerklärung
client-terms = Nutzungsbedingungen

## Consent page
consent-title = { $client } Zugriff auf Ihr Konto erlauben?
consent-scopes-legend = { $client } möchte:
consent-scope-unknown = Diese Berechtigung kann Hera nicht beschreiben. Erlauben Sie sie nur, wenn Sie { $client } vertrauen.
consent-scope-required = Erforderlich: lässt sich nicht abwählen.
consent-scope-shared = Was weitergegeben wird
consent-account-not-shown = Das Konto, für das diese Anfrage gilt, ist in diesem Browser nicht angemeldet; seine Angaben werden hier deshalb nicht gezeigt.
consent-audiences = Zugriff auf diese APIs:
consent-remember = Diese Entscheidung { $duration } merken
consent-allow = Erlauben
consent-deny = Ablehnen
remember-for-days-one = für 1 Tag
remember-for-days-other = für { $count } Tage
remember-for-hours-one = für 1 Stunde
remember-for-hours-other = für { $count } Stunden
remember-for-minutes-one = für 1 Minute
remember-for-minutes-other = für { $count } Minuten
remember-for-seconds-one = für 1 Sekunde
remember-for-seconds-other = für { $count } Sekunden

## Scopes: what each standard OAuth 2.0 / OpenID Connect scope lets an application do
scope-openid-title = Sie anmelden
scope-openid-description = Die Anwendung kann mit Ihrer Konto-ID bestätigen, wer Sie sind. Ihr Passwort sieht sie nie.
scope-offline-access-title = Verbunden bleiben
scope-offline-access-description = Der hier erlaubte Zugriff bleibt bestehen, auch wenn Sie die Anwendung gerade nicht nutzen, bis Sie ihn entfernen.
scope-email-title = Ihre E-Mail-Adresse sehen
scope-email-description = Ihre E-Mail-Adresse und ob Sie sie bestätigt haben.
scope-profile-title = Ihr Basisprofil sehen
scope-profile-description = Ihr Name, Benutzername, Ihre Website und wann Ihr Profil zuletzt geändert wurde.
scope-address-title = Ihre Postanschrift sehen
scope-address-description = Die in Ihrem Konto gespeicherte Postanschrift.
scope-phone-title = Ihre Telefonnummer sehen
scope-phone-description = Ihre Telefonnummer und ob Sie sie bestätigt haben.

## Values a scope would share
claim-email = E-Mail
claim-email-verified = E-Mail bestätigt
claim-name = Name
claim-given-name = Vorname
claim-family-name = Nachname
claim-preferred-username = Benutzername
claim-website = Website
claim-updated-at = Profil zuletzt geändert
claim-phone-number = Telefonnummer
claim-phone-number-verified = Telefonnummer bestätigt
claim-address = Anschrift
claim-yes = Ja
claim-no = Nein

## Dates ("2. Januar 2026")
date = { $day }. { $month } { $year }
month-1 = Januar
month-2 = Februar
month-3 = März
month-4 = April
month-5 = Mai
month-6 = Juni
month-7 = Juli
month-8 = August
month-9 = September
month-10 = Oktober
month-11 = November
month-12 = Dezember

## Logout confirmation
logout-title = Möchten Sie sich abmelden?
logout-requested-by = Angefordert von
logout-explanation = Die Abmeldung beendet Ihre Sitzung hier und in den Anwendungen, bei denen Sie sich mit diesem Konto angemeldet haben.
logout-accept = Ja, abmelden
logout-reject = Nein, angemeldet bleiben
logout-not-yours-title = Es wurde nichts abgemeldet
logout-not-yours-message = Diese Abmeldung gilt für ein Konto, das in diesem Browser nicht angemeldet ist. Zum Schutz dieses Kontos wurde nichts abgemeldet. Wenn Sie sich abmelden möchten, tun Sie es in der Anwendung in dem Browser, in dem Sie angemeldet sind.
logout-continue = Weiter

## Device sign-in
device-title = Auf Ihrem Gerät anmelden
device-warning-first = Fahren Sie nur fort, wenn Sie diese Anmeldung selbst begonnen haben, auf einem Gerät vor Ihnen.
device-warning-second = Wenn Ihnen jemand diesen Code geschickt oder Sie gebeten hat, ihn einzugeben, hören Sie hier auf: Der Code würde dessen Gerät Zugang zu Ihrem Konto geben.
device-code-label = Code, den Ihr Gerät anzeigt
device-code-hint = Groß- und Kleinschreibung, Leerzeichen und Bindestriche spielen keine Rolle.
device-continue = Weiter
device-problem-empty = Geben Sie den Code ein, den Ihr Gerät anzeigt.
device-problem-malformed = Das ist kein Code von einem Gerät. Codes bestehen nur aus Buchstaben und Ziffern; prüfen Sie den Code auf Ihrem Gerät und versuchen Sie es erneut.
device-problem-refused = Dieser Code ist falsch oder abgelaufen. Prüfen Sie den Code auf Ihrem Gerät, oder beginnen Sie dort neu, um einen neuen zu erhalten.
device-success-title = Sie können zu Ihrem Gerät zurückkehren
device-success-app = { $app } ist jetzt auf Ihrem Gerät angemeldet.
device-success-generic = Ihr Gerät ist jetzt angemeldet.
device-success-close = Sie können zu Ihrem Gerät zurückkehren und diese Seite schließen.

## Connected apps
apps-title = Verbundene Anwendungen
apps-none = Keine Anwendung hat Zugriff auf Ihr Konto.
apps-intro = Diese Anwendungen dürfen Ihr Konto nutzen. Wenn Sie den Zugriff entfernen, widerrufen Sie, was Sie erlaubt haben, und die Tokens der Anwendung; sie muss Sie beim nächsten Mal erneut fragen.
apps-allowed-on = Erlaubt am { $date }
apps-can-do = Was { $app } darf
apps-scope-unknown = Eine Berechtigung, die Hera nicht beschreiben kann ({ $scope }).
apps-audiences = Zugriff auf diese APIs:
apps-remove = Zugriff entfernen
apps-remove-for = für { $app }
apps-back = Zurück zu Ihrem Konto
apps-revoked = { $app } hat keinen Zugriff mehr auf Ihr Konto.
apps-revoked-generic = Die Anwendung hat keinen Zugriff mehr auf Ihr Konto.
apps-not-granted = Diese Anwendung hat keinen Zugriff auf Ihr Konto. Es wurde nichts geändert.

## Error pages
error-code = Fehlercode: { $code }
error-request-id = Anfrage-ID: { $id }
error-status = HTTP-Status { $status }
error-incomplete-title = Dieser Link ist unvollständig
error-incomplete-message = Diese Seite muss von der Anwendung geöffnet werden, bei der Sie sich anmelden. Gehen Sie zurück zur Anwendung und beginnen Sie neu.
error-no-longer-valid-title = Diese Anmeldeanfrage ist nicht mehr gültig
error-no-longer-valid-message = Die Anmeldeanfrage ist abgelaufen oder wurde schon verwendet. Gehen Sie zurück zur Anwendung und beginnen Sie neu.
error-form-expired-title = Dieses Formular ist abgelaufen
error-form-expired-message = Zu Ihrer Sicherheit konnte das Formular nicht angenommen werden. Es wurde nichts geändert. Gehen Sie zurück zur Anwendung und beginnen Sie neu.
error-bad-request-title = Mit dieser Anfrage stimmt etwas nicht
error-bad-request-message = Die Anfrage konnte nicht gelesen werden. Es wurde nichts geändert. Gehen Sie zurück zur Anwendung und beginnen Sie neu.
error-account-unavailable-title = Dieses Konto ist nicht verfügbar
error-account-unavailable-message = Das Konto für diese Anmeldung gibt es nicht mehr, oder es wurde deaktiviert. Es wurde nichts an die Anwendung weitergegeben.
error-not-found-title = Seite nicht gefunden
error-not-found-message = Unter dieser Adresse gibt es nichts.
error-sign-out-no-longer-valid-title = Diese Abmeldeanfrage ist nicht mehr gültig
error-sign-out-no-longer-valid-message = Die Abmeldeanfrage ist abgelaufen oder wurde schon verwendet. Gehen Sie zurück zur Anwendung und melden Sie sich erneut ab.
error-device-no-longer-valid-title = Diese Geräteanmeldung ist nicht mehr gültig
error-device-no-longer-valid-message = Die Anfrage ist abgelaufen oder wurde schon verwendet. Beginnen Sie auf Ihrem Gerät neu, um einen neuen Code zu erhalten.
error-too-large-title = Diese Anfrage ist zu groß
error-too-large-message = Die Anfrage war größer, als dieser Dienst annimmt. Es wurde nichts geändert. Kehren Sie zur Anwendung zurück und beginnen Sie erneut.
error-too-many-attempts-title = Zu viele Versuche
error-too-many-attempts-message = Es wurden zu viele Codes versucht. Es wurde nichts geändert. Warten Sie eine Minute und versuchen Sie es dann erneut.
error-upstream-slow-title = Der Anmeldedienst ist zu langsam
error-upstream-slow-message = Der Anmeldedienst hat nicht rechtzeitig geantwortet. Es wurde nichts geändert. Bitte versuchen Sie es gleich noch einmal.
error-upstream-down-title = Der Anmeldedienst ist nicht erreichbar
error-upstream-down-message = Der Anmeldedienst konnte nicht erreicht werden. Es wurde nichts geändert. Bitte versuchen Sie es gleich noch einmal.
error-unexpected-title = Etwas ist schiefgelaufen
error-unexpected-message = Ein unerwarteter Fehler ist aufgetreten. Es wurde nichts geändert. Bitte versuchen Sie es erneut.

## Errors Hydra reports (its urls.error page)
oauth-generic-title = Die Anmeldung konnte nicht abgeschlossen werden
oauth-generic-message = Die Anmeldeanfrage der Anwendung konnte nicht abgeschlossen werden. Gehen Sie zurück zur Anwendung und versuchen Sie es erneut.
oauth-access-denied-title = Der Zugriff wurde abgelehnt
oauth-access-denied-message = Sie oder der Anmeldedienst haben die Anfrage abgelehnt, daher wurde nichts an die Anwendung weitergegeben.
oauth-invalid-request-title = Die Anwendung hat eine ungültige Anfrage gesendet
oauth-invalid-request-message = Die Anwendung wollte Sie mit einer Anfrage anmelden, die der Anmeldedienst nicht annehmen konnte. Wenden Sie sich an den Support der Anwendung, wenn das wieder passiert.
oauth-unauthorized-client-title = Die Anwendung darf das nicht
oauth-unauthorized-client-message = Diese Anwendung ist für diese Art der Anmeldung nicht registriert. Wenden Sie sich an den Support der Anwendung.
oauth-unsupported-title = Die Anwendung hat etwas nicht Unterstütztes angefragt
oauth-unsupported-message = Die Anwendung hat eine Art der Anmeldung angefragt, die hier nicht unterstützt wird. Wenden Sie sich an den Support der Anwendung.
oauth-invalid-scope-title = Die Anwendung hat unbekannte Berechtigungen angefragt
oauth-invalid-scope-message = Die Anwendung hat Berechtigungen angefragt, die sie nicht anfragen darf. Wenden Sie sich an den Support der Anwendung.
oauth-login-required-title = Sie müssen sich anmelden
oauth-login-required-message = Die Anwendung wollte Sie ohne sichtbare Seite anmelden, aber Sie müssen sich zuerst anmelden. Gehen Sie zurück zur Anwendung und melden Sie sich an.
oauth-consent-required-title = Ihre Erlaubnis wird benötigt
oauth-consent-required-message = Die Anwendung wollte ohne Nachfrage fortfahren, braucht aber zuerst Ihre Erlaubnis. Gehen Sie zurück zur Anwendung und versuchen Sie es erneut.
oauth-no-longer-valid-title = Diese Anmeldeanfrage ist nicht mehr gültig
oauth-no-longer-valid-message = Die Anmeldeanfrage ist abgelaufen oder wurde schon verwendet. Gehen Sie zurück zur Anwendung und beginnen Sie neu.
oauth-server-error-title = Der Anmeldedienst hatte ein Problem
oauth-server-error-message = Der Anmeldedienst konnte die Anfrage nicht abschließen. Bitte versuchen Sie es gleich noch einmal.
