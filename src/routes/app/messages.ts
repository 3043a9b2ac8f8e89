/**
 * Every text of the app page, in English and Russian (the portal's LANG picks
 * one). Shared by the Worker (the refusal and settings pages it renders) and
 * the page script (app/main.ts, bundled into assets.ts): plain data, no imports.
 * `{name}` marks a value filled in as text.
 */
export type Lang = "en" | "ru";

const en = {
  title: "Files connector",
  refusedTitle: "This application is for the portal's administrators",
  refused:
    "The portal did not confirm that this page was opened by an administrator of this application. Open it from the portal's application menu while signed in as an administrator. If you are one, reload the page: the sign-in may have expired.",
  unavailableTitle: "The portal could not be reached",
  unavailable: "The connector could not ask the portal to confirm this request. Try again in a minute.",
  configTitle: "The connector is not set up yet",
  configIntro: "The Worker needs these settings before the application can be used:",
  configFix:
    "Set them with `npm run deploy -- --set NAME=value` (they are secrets of the Worker: no new deploy is needed), then reopen the application.",
  fix_PORTAL_URL:
    "PORTAL_URL: the portal's address, set with `npm run deploy -- --set PORTAL_URL=https://example.bitrix24.com` (or `wrangler secret put PORTAL_URL`).",
  fix_BITRIX_CLIENT_ID:
    "BITRIX_CLIENT_ID: the local application's code (client_id) as the portal shows it, set with `npm run deploy -- --set BITRIX_CLIENT_ID=local.5f1a2b3c4d5e6f.12345678`.",
  fix_WORKER_URL:
    "WORKER_URL: the Worker's own public address, set by `npm run deploy` (or `npm run deploy -- --set WORKER_URL=https://bitrix24-bi-files-connector.<you>.workers.dev`).",
  fix_CONNECTOR_TOKEN:
    "CONNECTOR_TOKEN: a long random secret the portal's source sends with every request: `npx wrangler secret put CONNECTOR_TOKEN`.",
  fix_invalid: "A configuration variable is invalid: {message}",
  fix_URL_HOST:
    "URL table {table}: its host is not in URL_ALLOWED_HOSTS, so it is never fetched; add the host there (comma-separated) in wrangler.jsonc (vars).",
  errorTitle: "Something went wrong",
  openFromPortal: "Open this application from the Bitrix24 portal: it is shown inside the portal's page.",
  loading: "Loading…",
  installedTitle: "Connected to the portal",
  installFailedTitle: "The connector could not be fully connected",
  installIntro: "What was registered in the portal:",
  installFinish: "Finish installation",
  installFinishHint: "Read the report, then finish: the portal reloads the application.",
  installRetry: "The installation is not finished: fix what failed, then open the application again and it tries again.",
  tabTables: "Tables",
  tabUpload: "Upload",
  tabHealth: "Settings",
  colTitle: "Title",
  colCode: "Code",
  colSource: "Source",
  colSize: "Size",
  colRows: "Rows",
  colUpdated: "Updated",
  colDataset: "Dataset",
  colName: "Name",
  colType: "Type",
  colExample: "Example",
  noTables: "No tables yet: upload a file.",
  datasetMissing: "not registered",
  datasetSynced: "in sync",
  datasetDiffers: "fields differ",
  datasetUnknown: "checking…",
  datasetFailed: "cannot check",
  createDataset: "Create dataset",
  syncAdd: "Add fields {fields}",
  syncRemove: "Remove fields {fields}",
  syncRemoveConfirm: "Remove the fields {fields} from the portal's dataset? Reports that use them stop working.",
  syncDone: "The portal's dataset was updated.",
  back: "← All tables",
  columns: "Columns",
  preview: "First 20 rows, as the portal previews them",
  versions: "Kept versions",
  noVersions: "No kept versions.",
  restore: "Restore",
  restoreConfirm: "Make the version of {when} live again? The current file is kept as a version.",
  restored: "Version restored.",
  deleteTable: "Delete table",
  deleteConfirm: "Delete the file {key}? It is kept as a version and can be restored.",
  deleted: "The file was deleted and kept as a version.",
  confirm: "Yes",
  cancel: "Cancel",
  replace: "Replace with a new file",
  dropHere: "Drop a file here or",
  choose: "choose a file",
  formats:
    "Read: CSV, TSV, JSON, NDJSON (these also gzipped, .gz) and Excel workbooks .xlsx and .xlsm (the first sheet; macros are never read). Refused: .xls (Excel 97–2003), .xlsb and .ods, binary or OpenDocument formats the Worker does not read: save them as .xlsx or CSV. Large files are sent straight to the Worker, in a stream.",
  uploadKey: "File name in the bucket",
  uploadButton: "Upload",
  uploading: "Uploading {name}…",
  checking: "Sent; the Worker is checking every record…",
  uploadDone: "Uploaded: {rows} rows, {columns} columns.",
  uploadFailed: "The file was not accepted; the live table is unchanged.",
  schemaChange: "Columns changed: added {added}; removed {removed}; retyped {retyped}.",
  notes: "Notes",
  openTable: "Open the table",
  healthTitle: "Settings the Worker runs with",
  healthOk: "Everything is set up.",
  setting: "Setting",
  value: "Value",
  yes: "yes",
  no: "no",
  none: "none",
  sessionLost: "The session with the portal was lost: reload the application.",
  failed: "Failed: {message}",
  retry: "Reload",
} as const;

export type MessageKey = keyof typeof en;

const ru: Record<MessageKey, string> = {
  title: "Коннектор файлов",
  refusedTitle: "Это приложение доступно только администраторам портала",
  refused:
    "Портал не подтвердил, что страницу открыл администратор этого приложения. Откройте её из меню приложений портала, войдя как администратор. Если вы администратор, перезагрузите страницу: вход мог устареть.",
  unavailableTitle: "Портал недоступен",
  unavailable: "Коннектору не удалось проверить запрос у портала. Попробуйте ещё раз через минуту.",
  configTitle: "Коннектор ещё не настроен",
  configIntro: "Прежде чем пользоваться приложением, задайте Worker'у эти настройки:",
  configFix:
    "Задайте их командой `npm run deploy -- --set ИМЯ=значение` (это секреты Worker'а: заново развёртывать не нужно) и откройте приложение ещё раз.",
  fix_PORTAL_URL:
    "PORTAL_URL — адрес портала: `npm run deploy -- --set PORTAL_URL=https://example.bitrix24.ru` (или `wrangler secret put PORTAL_URL`).",
  fix_BITRIX_CLIENT_ID:
    "BITRIX_CLIENT_ID — код локального приложения (client_id), как его показывает портал: `npm run deploy -- --set BITRIX_CLIENT_ID=local.5f1a2b3c4d5e6f.12345678`.",
  fix_WORKER_URL:
    "WORKER_URL — публичный адрес самого Worker'а; его задаёт `npm run deploy` (или `npm run deploy -- --set WORKER_URL=https://bitrix24-bi-files-connector.<you>.workers.dev`).",
  fix_CONNECTOR_TOKEN:
    "CONNECTOR_TOKEN — длинный случайный секрет, который источник портала передаёт с каждым запросом: `npx wrangler secret put CONNECTOR_TOKEN`.",
  fix_invalid: "Переменная конфигурации задана неверно: {message}",
  fix_URL_HOST:
    "URL-таблица {table}: её хоста нет в URL_ALLOWED_HOSTS, поэтому она не загружается; добавьте хост туда (через запятую) в wrangler.jsonc (vars).",
  errorTitle: "Что-то пошло не так",
  openFromPortal: "Откройте это приложение из портала Битрикс24: оно показывается внутри страницы портала.",
  loading: "Загрузка…",
  installedTitle: "Коннектор подключён к порталу",
  installFailedTitle: "Подключить коннектор полностью не удалось",
  installIntro: "Что зарегистрировано в портале:",
  installFinish: "Завершить установку",
  installFinishHint: "Прочитайте отчёт и завершите установку: портал перезагрузит приложение.",
  installRetry: "Установка не завершена: исправьте то, что не удалось, и откройте приложение снова — оно повторит попытку.",
  tabTables: "Таблицы",
  tabUpload: "Загрузка",
  tabHealth: "Настройки",
  colTitle: "Название",
  colCode: "Код",
  colSource: "Источник",
  colSize: "Размер",
  colRows: "Строк",
  colUpdated: "Обновлено",
  colDataset: "Датасет",
  colName: "Имя",
  colType: "Тип",
  colExample: "Пример",
  noTables: "Таблиц пока нет: загрузите файл.",
  datasetMissing: "не создан",
  datasetSynced: "поля совпадают",
  datasetDiffers: "поля отличаются",
  datasetUnknown: "проверяем…",
  datasetFailed: "не удалось проверить",
  createDataset: "Создать датасет",
  syncAdd: "Добавить поля {fields}",
  syncRemove: "Удалить поля {fields}",
  syncRemoveConfirm: "Удалить поля {fields} из датасета портала? Отчёты, которые их используют, перестанут работать.",
  syncDone: "Датасет в портале обновлён.",
  back: "← Все таблицы",
  columns: "Колонки",
  preview: "Первые 20 строк — как их показывает портал",
  versions: "Сохранённые версии",
  noVersions: "Сохранённых версий нет.",
  restore: "Восстановить",
  restoreConfirm: "Вернуть версию от {when}? Текущий файл сохранится как версия.",
  restored: "Версия восстановлена.",
  deleteTable: "Удалить таблицу",
  deleteConfirm: "Удалить файл {key}? Он сохранится как версия, его можно будет восстановить.",
  deleted: "Файл удалён и сохранён как версия.",
  confirm: "Да",
  cancel: "Отмена",
  replace: "Заменить новым файлом",
  dropHere: "Перетащите файл сюда или",
  choose: "выберите файл",
  formats:
    "Читаются: CSV, TSV, JSON, NDJSON (также сжатые, .gz) и книги Excel .xlsx и .xlsm (первый лист; макросы не читаются). Не принимаются: .xls (Excel 97–2003), .xlsb и .ods — двоичные и OpenDocument-форматы, которые Worker не читает: сохраните их как .xlsx или CSV. Большие файлы передаются прямо в Worker, потоком.",
  uploadKey: "Имя файла в хранилище",
  uploadButton: "Загрузить",
  uploading: "Загружаем {name}…",
  checking: "Отправлено; Worker проверяет каждую запись…",
  uploadDone: "Загружено: строк {rows}, колонок {columns}.",
  uploadFailed: "Файл не принят; текущая таблица не изменилась.",
  schemaChange: "Колонки изменились: добавлены {added}; удалены {removed}; сменили тип {retyped}.",
  notes: "Замечания",
  openTable: "Открыть таблицу",
  healthTitle: "Настройки, с которыми работает Worker",
  healthOk: "Всё настроено.",
  setting: "Настройка",
  value: "Значение",
  yes: "да",
  no: "нет",
  none: "нет",
  sessionLost: "Сессия с порталом потеряна: перезагрузите приложение.",
  failed: "Ошибка: {message}",
  retry: "Перезагрузить",
};

export const MESSAGES: Record<Lang, Record<MessageKey, string>> = { en, ru };

/** The portal's LANG (ru, ua, by, kz, en, de, …): Russian for the Russian-speaking portals, else English. */
export function langOf(value: unknown): Lang {
  const v = typeof value === "string" ? value.trim().toLowerCase().slice(0, 2) : "";
  return v === "ru" || v === "by" || v === "kz" ? "ru" : "en";
}

/** A message with its `{name}` parts filled in (as text: the caller escapes or sets it as text). */
export function say(lang: Lang, key: MessageKey, values: Record<string, string | number> = {}): string {
  return MESSAGES[lang][key].replace(/\{(\w+)\}/g, (m, name: string) => (name in values ? String(values[name]) : m));
}
