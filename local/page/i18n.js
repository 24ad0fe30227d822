// The page's text in the languages the product ships: English and Korean.
// A value that is an array is [before, emphasised, after]: the option name a notice stresses.

export const LANGUAGES = { en: "English", ko: "한국어" };

// One way of writing a day per language, for whole days and times alike: "Dec 8, 2026" and
// "2026년 12월 8일" (the numeric Korean form ends in a period, which would run into a sentence's).
export const DAY_MONTH = { en: "short", ko: "long" };

const en = {
  "page.title": "API Information",
  "page.intro":
    "View and manage the API key and API token that the Flexible User License app uses. " +
    "Every new key or token is checked with Atlassian before it is saved.",
  "page.language": "Language",
  "page.loading": "Loading the API information…",
  "page.dev": "Local stack: signed in as “{account}” on the simulated site “{installation}”.",
  "page.important": "Important:",
  "check.now": "Check now",
  "check.running": "Checking…",
  "check.done": "Both credentials were checked with Atlassian just now.",
  "check.help": "Asks Atlassian again whether the saved key and token still work.",

  "status.not_configured": "Not configured",
  "status.valid": "Valid",
  "status.expiring": "Expiring soon",
  "status.expired": "Expired",
  "status.invalid": "Invalid",
  "outcome.ok": "Accepted by Atlassian",
  "outcome.rejected": "Rejected by Atlassian",
  "outcome.error": "Atlassian could not be asked",

  "field.expiresOn": "Expiry date (optional)",
  "key.expiresOn.hint":
    "When the key stops working; you may leave it empty. Atlassian's date for the key, when the service " +
    "can read it, replaces one entered here.",
  "token.expiresOn.hint":
    "When the token stops working; you may leave it empty. While a valid API key is saved, Atlassian's " +
    "date for the token replaces one entered here.",
  "button.save": "Save",
  "button.saving": "Saving…",
  "button.cancel": "Cancel",
  "meta.status": "Status",
  "meta.expiresOn": "Expires on",
  "meta.lastUpdated": "Last updated",
  "meta.updatedBy": "Saved by",
  "meta.lastCheck": "Last check",
  "meta.none": "—",
  "meta.daysLeft": "Days left",
  "days.left.one": "1 day",
  "days.left.other": "{days} days",
  "days.today": "Expires today",
  "days.ago.one": "Expired 1 day ago",
  "days.ago.other": "Expired {days} days ago",
  "source.atlassian": "read from Atlassian, not entered by an administrator",
  "source.admin": "entered by an administrator",

  "expiry.heading": "Expiry warnings",
  "expiry.subject.key": "The API key",
  "expiry.subject.token": "The API token",
  "expiry.in.one": "{subject} expires in 1 day ({date}).",
  "expiry.in.other": "{subject} expires in {days} days ({date}).",
  "expiry.today": "{subject} expires today ({date}).",
  "expiry.ago.one": "{subject} expired 1 day ago ({date}).",
  "expiry.ago.other": "{subject} expired {days} days ago ({date}).",
  "expiry.soon": "{subject} expires soon.",
  "expiry.past": "{subject} has expired.",
  "expiry.fromAtlassian": "Atlassian gave this date.",

  "key.heading": "API Key",
  "key.info": "API key info",
  "key.change": "Change API key",
  "key.field": "Admin API key",
  "key.placeholder": "Paste the new API key",
  "key.masked": "API key",
  "key.organization": "Organization",
  "key.manage": "Create and manage API keys",
  "key.guide": "View guide to create API key",
  "key.notice": [
    "To use this app, you must select the ",
    "API key without scopes",
    " option when creating your API key. The app will not work if this option is not selected.",
  ],
  "key.saved": "The API key was saved.",

  "token.heading": "API Token",
  "token.info": "API token info",
  "token.change": "Change API token",
  "token.field": "User API token",
  "token.placeholder": "Paste the new API token",
  "token.email": "Email address",
  "token.masked": "API token",
  "token.account": "Atlassian account",
  "token.manage": "Create and manage API tokens",
  "token.guide": "View guide to create API token",
  "token.notice": [
    "To use this app, you must select the ",
    "Create API token",
    " button when creating your API token. The app will not work if this option is not selected.",
  ],
  "token.saved": "The API token was saved.",

  "history.heading": "History",
  "history.caption": "Changes and checks of the API key and API token, newest first",
  "history.when": "When",
  "history.credential": "Credential",
  "history.action": "Action",
  "history.outcome": "Outcome",
  "history.by": "By",
  "history.value": "Value",
  "history.empty": "Nothing has been changed or checked yet.",
  "history.more": "Show older entries",
  "history.unavailable": "The history could not be loaded.",
  "history.because": "{result}: {reason}",
  "credential.apiKey": "API key",
  "credential.apiToken": "API token",
  "action.changed": "Changed",
  "action.checked": "Checked",
  "action.deleted": "Deleted",
  "result.succeeded": "Succeeded",
  "result.rejected": "Rejected",
  "result.failed": "Failed",
  "actor.forge": "Atlassian's personal data report",
  "actor.scheduler": "Scheduled check",
  "actor.aws": "Operator {arn}",
  "actor.closed": "A closed Atlassian account",
  // Why a line of the history was refused or failed, after its outcome.
  "reason.api_key_invalid": "Atlassian did not accept the key",
  "reason.api_key_has_scopes": "the key was created with scopes",
  "reason.api_key_no_organization": "the key belongs to no organization",
  "reason.api_key_other_organization": "the key's organization does not hold this Jira site",
  "reason.api_token_invalid": "Atlassian did not accept the email and token",
  "reason.api_token_has_scopes": "the token was created with scopes",
  "reason.api_token_email_mismatch": "the token belongs to another email address",
  "reason.api_token_account_inactive": "the token's account is deactivated",
  "reason.api_token_account_closed": "the token's account was closed",
  "reason.change_in_progress": "another change was under way",
  "reason.rate_limited": "too many requests",
  "reason.atlassian_error": "Atlassian answered with an error",
  "reason.atlassian_unavailable": "Atlassian could not be reached",
  "reason.internal_error": "an error in the service",

  "error.retry": "Try again in {seconds} seconds.",
  "error.other": "The request did not go through. Reload the page and try again.",
  // The page's own sentence for each of the API's error codes, so that every message is in the page's
  // language and says what to do.
  "code.network": "The service could not be reached. Check your connection and try again.",
  "code.bad_answer": "The service gave an answer that could not be read. Try again in a few minutes.",
  "code.bad_request":
    "The request could not be read. Reload the page; if this keeps happening, reopen the app from Jira.",
  "code.unauthenticated":
    "Your sign-in could not be confirmed. Reopen the app from Jira and try again; if this keeps happening, " +
    "ask whoever installed the app to check its setup.",
  "code.forbidden": "Only Jira administrators can view or change the API information.",
  "code.not_found": "This address does not exist. Reload the page; if this keeps happening, update the app.",
  "code.idempotency_key_reused": "This save was already sent with other values. Save again.",
  "code.change_in_progress": "This credential is being changed elsewhere. Wait a moment and try again.",
  "code.payload_too_large": "The values you entered are too long. Shorten them and try again.",
  "code.validation_error": "Check the values you entered.",
  "code.api_key_invalid": "Atlassian did not accept this API key. Check that you copied all of it.",
  "code.api_key_has_scopes":
    "This API key was created with scopes. " +
    "Create the key with the ‘API key without scopes’ option and save it again.",
  "code.api_key_no_organization":
    "This API key does not belong to any organization. Create it in Atlassian Administration.",
  "site.this": "this Jira site",
  "code.api_key_other_organization":
    "This API key belongs to another organization, one that does not hold this Jira site. " +
    "Create the key in the organization that holds {site}, then save it here.",
  "code.api_token_invalid": "Atlassian did not accept this email and API token. Check both and try again.",
  "code.api_token_has_scopes":
    "This API token was created with scopes. " +
    "Create the token with the ‘Create API token’ button and save it again.",
  "code.api_token_email_mismatch":
    "This API token belongs to another email address. Enter the email address of the token's account.",
  "code.api_token_account_inactive":
    "The Atlassian account of this API token is deactivated. Use a token of an active account.",
  "code.rate_limited": "Too many requests for this site. Wait a little and try again.",
  "code.atlassian_error": "Atlassian answered with an error. Try again in a few minutes.",
  "code.atlassian_unavailable": "Atlassian could not be reached just now. Try again in a few minutes.",
  "code.internal_error": "Something went wrong on our side. Try again in a few minutes.",
  // The API's validation details, as the page says them (app.js recognises the API's sentences).
  "detail.required": "This field is required.",
  "detail.empty": "This field must not be empty.",
  "detail.tooLong": "This field must be at most {max} characters long.",
  "detail.spaces": "This field must not contain spaces or line breaks.",
  "detail.characters": "This field must contain only characters you can type or paste.",
  "detail.email": "Enter an email address, like admin@example.com.",
  "detail.dateFormat": "Enter the date as YYYY-MM-DD.",
  "detail.realDate": "Enter a date that exists in the calendar.",
  "detail.past": "Choose today or a later date.",
  "detail.invalid": "This value is not valid. Check it and try again.",
};

const ko = {
  "page.title": "API 정보",
  "page.intro":
    "Flexible User License 앱이 사용하는 API 키와 API 토큰을 확인하고 관리합니다. " +
    "새 키나 토큰은 저장하기 전에 Atlassian에서 확인합니다.",
  "page.language": "언어",
  "page.loading": "API 정보를 불러오는 중…",
  "page.dev": "로컬 스택: 시뮬레이션 사이트 “{installation}”에 “{account}”(으)로 로그인했습니다.",
  "page.important": "중요:",
  "check.now": "지금 확인",
  "check.running": "확인 중…",
  "check.done": "방금 Atlassian에서 두 자격 증명을 모두 확인했습니다.",
  "check.help": "저장된 키와 토큰이 아직 작동하는지 Atlassian에 다시 확인합니다.",

  "status.not_configured": "설정되지 않음",
  "status.valid": "유효함",
  "status.expiring": "곧 만료됨",
  "status.expired": "만료됨",
  "status.invalid": "유효하지 않음",
  "outcome.ok": "Atlassian에서 승인됨",
  "outcome.rejected": "Atlassian에서 거부됨",
  "outcome.error": "Atlassian에 확인할 수 없음",

  "field.expiresOn": "만료일 (선택 사항)",
  "key.expiresOn.hint":
    "키가 더 이상 작동하지 않는 날짜이며, 비워 두어도 됩니다. 서비스가 Atlassian에서 키의 만료일을 읽으면 " +
    "여기에 입력한 날짜 대신 그 날짜를 사용합니다.",
  "token.expiresOn.hint":
    "토큰이 더 이상 작동하지 않는 날짜이며, 비워 두어도 됩니다. 유효한 API 키가 저장되어 있으면 " +
    "Atlassian이 알려 준 토큰의 만료일을 여기에 입력한 날짜 대신 사용합니다.",
  "button.save": "저장",
  "button.saving": "저장 중…",
  "button.cancel": "취소",
  "meta.status": "상태",
  "meta.expiresOn": "만료일",
  "meta.lastUpdated": "마지막 업데이트",
  "meta.updatedBy": "저장한 사용자",
  "meta.lastCheck": "마지막 확인",
  "meta.none": "—",
  "meta.daysLeft": "남은 일수",
  "days.left.other": "{days}일",
  "days.today": "오늘 만료",
  "days.ago.other": "{days}일 전에 만료됨",
  "source.atlassian": "관리자가 입력한 날짜가 아니라 Atlassian에서 읽은 날짜",
  "source.admin": "관리자가 입력한 날짜",

  "expiry.heading": "만료 알림",
  // Korean marks the subject with 가 or 이 depending on the last syllable, so each has its own.
  "expiry.subject.key": "API 키가",
  "expiry.subject.token": "API 토큰이",
  "expiry.in.other": "{subject} {days}일 후에 만료됩니다 ({date}).",
  "expiry.today": "{subject} 오늘 만료됩니다 ({date}).",
  "expiry.ago.other": "{subject} {days}일 전에 만료되었습니다 ({date}).",
  "expiry.soon": "{subject} 곧 만료됩니다.",
  "expiry.past": "{subject} 만료되었습니다.",
  "expiry.fromAtlassian": "이 날짜는 Atlassian에서 알려 준 것입니다.",

  "key.heading": "API 키",
  "key.info": "API 키 정보",
  "key.change": "API 키 변경",
  "key.field": "Admin API 키",
  "key.placeholder": "새 API 키를 붙여 넣으세요",
  "key.masked": "API 키",
  "key.organization": "조직",
  "key.manage": "API 키 생성 및 관리",
  "key.guide": "API 키 생성 가이드 보기",
  "key.notice": [
    "이 앱을 사용하려면 API 키를 만들 때 반드시 ",
    "API key without scopes",
    " 옵션을 선택해야 합니다. 이 옵션을 선택하지 않으면 앱이 작동하지 않습니다.",
  ],
  "key.saved": "API 키를 저장했습니다.",

  "token.heading": "API 토큰",
  "token.info": "API 토큰 정보",
  "token.change": "API 토큰 변경",
  "token.field": "사용자 API 토큰",
  "token.placeholder": "새 API 토큰을 붙여 넣으세요",
  "token.email": "이메일 주소",
  "token.masked": "API 토큰",
  "token.account": "Atlassian 계정",
  "token.manage": "API 토큰 생성 및 관리",
  "token.guide": "API 토큰 생성 가이드 보기",
  "token.notice": [
    "이 앱을 사용하려면 API 토큰을 만들 때 반드시 ",
    "Create API token",
    " 버튼을 선택해야 합니다. 이 옵션을 선택하지 않으면 앱이 작동하지 않습니다.",
  ],
  "token.saved": "API 토큰을 저장했습니다.",

  "history.heading": "기록",
  "history.caption": "API 키와 API 토큰의 변경 및 확인 기록 (최신순)",
  "history.when": "일시",
  "history.credential": "자격 증명",
  "history.action": "작업",
  "history.outcome": "결과",
  "history.by": "사용자",
  "history.value": "값",
  "history.empty": "아직 변경하거나 확인한 기록이 없습니다.",
  "history.more": "이전 기록 더 보기",
  "history.unavailable": "기록을 불러올 수 없습니다.",
  "history.because": "{result}: {reason}",
  "credential.apiKey": "API 키",
  "credential.apiToken": "API 토큰",
  "action.changed": "변경",
  "action.checked": "확인",
  "action.deleted": "삭제",
  "result.succeeded": "성공",
  "result.rejected": "거부됨",
  "result.failed": "실패",
  "actor.forge": "Atlassian 개인 정보 보고",
  "actor.scheduler": "예약된 확인",
  "actor.aws": "운영자 {arn}",
  "actor.closed": "폐쇄된 Atlassian 계정",
  "reason.api_key_invalid": "Atlassian이 키를 거부함",
  "reason.api_key_has_scopes": "범위(scope)가 있는 키",
  "reason.api_key_no_organization": "조직에 속하지 않은 키",
  "reason.api_key_other_organization": "이 Jira 사이트가 없는 조직의 키",
  "reason.api_token_invalid": "Atlassian이 이메일과 토큰을 거부함",
  "reason.api_token_has_scopes": "범위(scope)가 있는 토큰",
  "reason.api_token_email_mismatch": "다른 이메일 주소의 토큰",
  "reason.api_token_account_inactive": "비활성화된 계정의 토큰",
  "reason.api_token_account_closed": "토큰의 계정이 폐쇄됨",
  "reason.change_in_progress": "다른 변경이 진행 중이었음",
  "reason.rate_limited": "요청이 너무 많음",
  "reason.atlassian_error": "Atlassian이 오류로 응답함",
  "reason.atlassian_unavailable": "Atlassian에 연결할 수 없었음",
  "reason.internal_error": "서비스 내부 오류",

  "error.retry": "{seconds}초 후에 다시 시도하세요.",
  "error.other": "요청을 처리하지 못했습니다. 페이지를 새로 고친 뒤 다시 시도하세요.",
  // The API writes its messages in English; these are the Korean ones for its error codes (docs/API.md).
  "code.bad_answer": "서비스의 응답을 읽을 수 없습니다. 몇 분 후 다시 시도하세요.",
  "site.this": "이 Jira",
  "code.api_key_other_organization":
    "이 API 키는 이 Jira 사이트가 없는 다른 조직의 키입니다. " +
    "{site} 사이트가 속한 조직에서 키를 만든 뒤 여기에 저장하세요.",
  "code.bad_request": "요청을 읽을 수 없습니다. 페이지를 새로 고친 뒤 다시 시도하세요.",
  "code.unauthenticated":
    "로그인 상태를 확인할 수 없습니다. Jira에서 앱을 다시 연 뒤 시도하세요. " +
    "문제가 계속되면 앱을 설치한 담당자에게 설정 확인을 요청하세요.",
  "code.forbidden": "Jira 관리자만 API 정보를 보거나 변경할 수 있습니다.",
  "code.not_found": "요청한 주소가 없습니다. 페이지를 새로 고치고, 문제가 계속되면 앱을 업데이트하세요.",
  "code.idempotency_key_reused": "같은 요청 키가 다른 내용으로 이미 사용되었습니다. 다시 저장하세요.",
  "code.change_in_progress": "이 자격 증명을 다른 곳에서 변경하고 있습니다. 잠시 후 다시 시도하세요.",
  "code.payload_too_large": "입력한 값이 너무 깁니다. 값을 줄인 뒤 다시 시도하세요.",
  "code.validation_error": "입력한 값을 확인하세요.",
  "code.api_key_invalid": "Atlassian이 이 API 키를 거부했습니다. 키를 다시 복사해 붙여 넣으세요.",
  "code.api_key_has_scopes":
    "범위(scope)가 있는 API 키입니다. ‘API key without scopes’ 옵션으로 키를 다시 만드세요.",
  "code.api_key_no_organization": "이 API 키로 접근할 수 있는 조직이 없습니다. 조직 관리자가 키를 만들어야 합니다.",
  "code.api_token_invalid": "Atlassian이 이 이메일 주소와 API 토큰을 거부했습니다. 둘 다 확인하세요.",
  "code.api_token_has_scopes":
    "범위(scope)가 있는 API 토큰입니다. ‘Create API token’ 버튼으로 토큰을 다시 만드세요.",
  "code.api_token_email_mismatch":
    "이 API 토큰은 다른 이메일 주소의 계정에 속합니다. 토큰을 만든 계정의 이메일 주소를 입력하세요.",
  "code.api_token_account_inactive": "이 API 토큰의 계정이 비활성화되어 있습니다. 활성 계정으로 토큰을 만드세요.",
  "code.rate_limited": "요청이 너무 많습니다. 잠시 후 다시 시도하세요.",
  "code.atlassian_error": "Atlassian이 오류로 응답했습니다. 몇 분 후 다시 시도하세요.",
  "code.atlassian_unavailable": "지금은 Atlassian에 연결할 수 없습니다. 몇 분 후 다시 시도하세요.",
  "code.internal_error": "일시적인 오류가 발생했습니다. 몇 분 후 다시 시도하세요.",
  "code.network": "서비스에 연결할 수 없습니다. 연결 상태를 확인한 뒤 다시 시도하세요.",
  "detail.required": "이 항목을 입력하세요.",
  "detail.empty": "이 항목은 비워 둘 수 없습니다.",
  "detail.tooLong": "{max}자 이하로 입력하세요.",
  "detail.spaces": "공백이나 줄 바꿈 없이 입력하세요.",
  "detail.characters": "입력하거나 붙여 넣을 수 있는 문자만 사용하세요.",
  "detail.email": "admin@example.com과 같은 이메일 주소를 입력하세요.",
  "detail.dateFormat": "날짜를 YYYY-MM-DD 형식으로 입력하세요.",
  "detail.realDate": "달력에 있는 날짜를 입력하세요.",
  "detail.past": "오늘 또는 이후 날짜를 선택하세요.",
  "detail.invalid": "이 항목의 값이 올바르지 않습니다. 확인한 뒤 다시 시도하세요.",
};

const STRINGS = { en, ko };

/** The language to start in: the one chosen before, else the browser's first supported language. */
export function initialLanguage(saved, preferred) {
  if (saved && saved in STRINGS) return saved;
  for (const tag of preferred || []) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (base in STRINGS) return base;
  }
  return "en";
}

/** The text of `key` in `lang` (English when missing), with {name} placeholders filled in. */
export function t(lang, key, values = {}) {
  const text = STRINGS[lang]?.[key] ?? en[key] ?? key;
  if (Array.isArray(text)) return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** Whether `lang` has its own text for `key` (used for the API's error codes and the history's reasons). */
export function has(lang, key) {
  return Boolean(STRINGS[lang] && key in STRINGS[lang]);
}
