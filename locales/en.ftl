# Hera's English messages: the reference catalogue. Every other language must have every key
# here (a test checks), with the same { $variables }.
#
# Format (a subset of Fluent, https://projectfluent.org): `key = text`, where text may continue
# on indented lines and may contain { $name } variables. Counted messages come in two forms,
# `KEY-one` (exactly 1) and `KEY-other` (everything else).

## Page frame
site-name = Hera
signed-in-as = Signed in as { $account }
opens-in-new-tab = (opens in a new tab)

## Home page
home-title-signed-in = Your account
home-title-signed-out = Welcome
home-title-second-factor = Confirm it is you
home-connected-apps = Connected apps
home-connected-apps-about = see which applications can use your account, and remove them
home-sign-out = Sign out
home-second-factor = You are signed in, but need to confirm it is you with your second factor.
home-signed-out = You are not signed in.
home-continue = Continue
home-sign-in = Sign in

## The application asking (consent page)
client-card-label = Application
client-logo-alt = { $client } logo
client-wants-access = { $client } wants to access your account.
client-redirect = You will be sent back to { $host }
client-website = Website
client-privacy-policy = Privacy policy
client-terms = Terms of service

## Consent page
consent-title = Allow { $client } to access your account?
consent-scopes-legend = { $client } is asking to:
consent-scope-unknown = This permission is not described by Hera. Only allow it if you trust { $client }.
consent-scope-required = Required: this cannot be turned off.
consent-scope-shared = What will be shared
consent-account-not-shown = The account this request is for is not signed in in this browser, so its details are not shown here.
consent-audiences = Access to these APIs:
consent-remember = Remember this decision { $duration }
consent-allow = Allow
consent-deny = Deny
remember-for-days-one = for 1 day
remember-for-days-other = for { $count } days
remember-for-hours-one = for 1 hour
remember-for-hours-other = for { $count } hours
remember-for-minutes-one = for 1 minute
remember-for-minutes-other = for { $count } minutes
remember-for-seconds-one = for 1 second
remember-for-seconds-other = for { $count } seconds

## Scopes: what each standard OAuth 2.0 / OpenID Connect scope lets an application do
scope-openid-title = Sign you in
scope-openid-description = Let the app confirm who you are with your account ID. It never sees your password.
scope-offline-access-title = Stay connected
scope-offline-access-description = Keep the access you allow here even while you are not using the app, until you remove it.
scope-email-title = See your email address
scope-email-description = Your email address and whether you have verified it.
scope-profile-title = See your basic profile
scope-profile-description = Your name, username, website and when your profile last changed.
scope-address-title = See your postal address
scope-address-description = The postal address saved in your account.
scope-phone-title = See your phone number
scope-phone-description = Your phone number and whether you have verified it.

## Values a scope would share
claim-email = Email
claim-email-verified = Email verified
claim-name = Name
claim-given-name = Given name
claim-family-name = Family name
claim-preferred-username = Username
claim-website = Website
claim-updated-at = Profile last updated
claim-phone-number = Phone number
claim-phone-number-verified = Phone number verified
claim-address = Address
claim-yes = Yes
claim-no = No

## Dates ("2 January 2026")
date = { $day } { $month } { $year }
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

## Logout confirmation
logout-title = Do you want to sign out?
logout-requested-by = Requested by
logout-explanation = Signing out ends your session here and in the applications you signed in to with this account.
logout-accept = Yes, sign me out
logout-reject = No, stay signed in
logout-not-yours-title = Nothing was signed out
logout-not-yours-message = This sign-out request is for an account that is not signed in in this browser. To protect that account, nothing was signed out. If you want to sign out, do it from the application in the browser where you are signed in.
logout-continue = Continue

## Device sign-in
device-title = Sign in on your device
device-warning-first = Only continue if you started this sign-in yourself, on a device in front of you.
device-warning-second = If someone sent you this code or asked you to enter it, stop here: the code would let their device into your account.
device-code-label = Code shown on your device
device-code-hint = Capital letters, spaces and dashes do not matter.
device-continue = Continue
device-problem-empty = Enter the code shown on your device.
device-problem-malformed = That is not a code from a device. Codes have only letters and digits; check the code on your device and try again.
device-problem-refused = That code is wrong or has expired. Check the code on your device, or start again there to get a new one.
device-success-title = You can go back to your device
device-success-app = { $app } is now signed in on your device.
device-success-generic = Your device is now signed in.
device-success-close = You can go back to your device and close this page.

## Connected apps
apps-title = Connected apps
apps-none = No applications have access to your account.
apps-intro = These applications can use your account. Removing access revokes what you allowed and the tokens the application holds; it has to ask you again next time.
apps-allowed-on = Allowed on { $date }
apps-can-do = What { $app } can do
apps-scope-unknown = A permission Hera cannot describe ({ $scope }).
apps-audiences = Access to these APIs:
apps-remove = Remove access
apps-remove-for = for { $app }
apps-back = Back to your account
apps-revoked = { $app } no longer has access to your account.
apps-revoked-generic = The application no longer has access to your account.
apps-not-granted = That application does not have access to your account. Nothing was changed.

## Error pages
error-code = Error code: { $code }
error-request-id = Request ID: { $id }
error-status = HTTP status { $status }
error-incomplete-title = This link is incomplete
error-incomplete-message = This page must be opened by the application you are signing in to. Go back to the application and start again.
error-no-longer-valid-title = This sign-in request is no longer valid
error-no-longer-valid-message = The sign-in request has expired or was already used. Go back to the application and start again.
error-form-expired-title = This form has expired
error-form-expired-message = For your security, the form could not be accepted. Nothing was changed. Go back to the application and start again.
error-bad-request-title = Something is wrong with this request
error-bad-request-message = The request could not be read. Nothing was changed. Go back to the application and start again.
error-account-unavailable-title = This account is not available
error-account-unavailable-message = The account for this sign-in no longer exists or has been disabled. Nothing was shared with the application.
error-not-found-title = Page not found
error-not-found-message = There is nothing at this address.
error-sign-out-no-longer-valid-title = This sign-out request is no longer valid
error-sign-out-no-longer-valid-message = The sign-out request has expired or was already used. Go back to the application and sign out again.
error-device-no-longer-valid-title = This device sign-in is no longer valid
error-device-no-longer-valid-message = The request has expired or was already used. Start again on your device to get a new code.
error-too-large-title = This request is too large
error-too-large-message = The request was larger than this service accepts. Nothing was changed. Go back to the application and start again.
error-too-many-attempts-title = Too many attempts
error-too-many-attempts-message = Too many codes were tried. Nothing was changed. Wait a minute, then try again.
error-upstream-slow-title = The sign-in service is too slow
error-upstream-slow-message = The sign-in service did not answer in time. Nothing was changed. Please try again in a moment.
error-upstream-down-title = The sign-in service is unavailable
error-upstream-down-message = The sign-in service could not be reached. Nothing was changed. Please try again in a moment.
error-unexpected-title = Something went wrong
error-unexpected-message = An unexpected error happened. Nothing was changed. Please try again.

## Errors Hydra reports (its urls.error page)
oauth-generic-title = Sign-in could not be completed
oauth-generic-message = The application's sign-in request could not be completed. Go back to the application and try again.
oauth-access-denied-title = Access was denied
oauth-access-denied-message = You or the sign-in service declined the request, so nothing was shared with the application.
oauth-invalid-request-title = The application sent an invalid request
oauth-invalid-request-message = The application asked to sign you in with a request the sign-in service could not accept. Contact the application's support if this keeps happening.
oauth-unauthorized-client-title = The application is not allowed to do this
oauth-unauthorized-client-message = This application is not registered for this kind of sign-in. Contact the application's support.
oauth-unsupported-title = The application asked for something unsupported
oauth-unsupported-message = The application asked for a kind of sign-in that is not supported here. Contact the application's support.
oauth-invalid-scope-title = The application asked for unknown permissions
oauth-invalid-scope-message = The application asked for permissions it is not allowed to request. Contact the application's support.
oauth-login-required-title = You need to sign in
oauth-login-required-message = The application tried to sign you in without showing a page, but you need to sign in first. Go back to the application and sign in.
oauth-consent-required-title = Your permission is needed
oauth-consent-required-message = The application tried to continue without asking, but it needs your permission first. Go back to the application and try again.
oauth-no-longer-valid-title = This sign-in request is no longer valid
oauth-no-longer-valid-message = The sign-in request has expired or was already used. Go back to the application and start again.
oauth-server-error-title = The sign-in service had a problem
oauth-server-error-message = The sign-in service could not complete the request. Please try again in a moment.
