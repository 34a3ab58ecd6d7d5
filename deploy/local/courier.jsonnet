// Body of the JSON POST that Kratos's HTTP courier sends to the mail sink: the rendered message
// and, for the templates that carry one, the one-time code (null otherwise).
function(ctx) {
  local data = if std.objectHas(ctx, 'template_data') && ctx.template_data != null then ctx.template_data else {},
  local field(name) = if std.objectHas(data, name) then data[name] else null,

  recipient: ctx.recipient,
  template_type: ctx.template_type,
  message_type: if std.objectHas(ctx, 'message_type') then ctx.message_type else null,
  subject: ctx.subject,
  body: ctx.body,
  verification_code: field('verification_code'),
  verification_url: field('verification_url'),
  recovery_code: field('recovery_code'),
  login_code: field('login_code'),
  registration_code: field('registration_code'),
}
