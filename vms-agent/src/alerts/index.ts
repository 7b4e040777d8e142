/** What other packages (tests, receivers) use of alert delivery: the webhook signature scheme and the syslog format. */
export { signWebhook, verifyWebhook, webhookHeaders, webhookKey, WEBHOOK_SECRET_PREFIX } from './webhook-signature.js';
export { SD_ID, formatAlertSyslog, octetCountedFrame } from './syslog-format.js';
