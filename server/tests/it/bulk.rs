//! Bulk SMS tasks against a real database: recipient files of every kind a marketer produces,
//! the validation report, the fee reservation, scheduling rules and Delivery Records actions.

use std::io::Write;
use std::path::PathBuf;

use crate::common;
use crate::common::catalogue::{catalogue, Catalogue};
use crate::common::{browser, spawn, TestApp};
use app::campaigns::import::{import, ImportError, ImportTotals};
use app::campaigns::model::RejectReason;
use app::campaigns::rules::Source;
use app::campaigns::service;
use reqwest::StatusCode;
use rust_xlsxwriter::{Format, Formula, Workbook};
use sqlx::PgPool;

const MARKETER: &str = "mia@example.com";
const PASSWORD: &str = "marketing password 1";

async fn source(pool: &PgPool, c: &Catalogue, template: i64) -> Source {
    service::source(
        pool,
        &c.application.to_string(),
        &c.signature.to_string(),
        &template.to_string(),
    )
    .await
    .expect("usable source")
}

/// Imports `bytes` as a file for the notification template; the upload id and the outcome.
async fn import_bytes(pool: &PgPool, bytes: &[u8]) -> (i64, Result<ImportTotals, ImportError>) {
    let user: i64 = sqlx::query_scalar("SELECT id FROM users LIMIT 1")
        .fetch_one(pool)
        .await
        .unwrap();
    let c = Catalogue {
        application: sqlx::query_scalar("SELECT min(id) FROM applications")
            .fetch_one(pool)
            .await
            .unwrap(),
        signature: sqlx::query_scalar("SELECT min(id) FROM signatures")
            .fetch_one(pool)
            .await
            .unwrap(),
        notification: sqlx::query_scalar("SELECT min(id) FROM templates")
            .fetch_one(pool)
            .await
            .unwrap(),
        marketing: 0,
    };
    let source = source(pool, &c, c.notification).await;
    let upload = app::campaigns::repo::create_upload(pool, &source, "f", bytes.len() as i64, user)
        .await
        .unwrap();
    let path = temp_file(bytes);
    let outcome = import(pool, upload, path.clone(), source.rules()).await;
    let _ = std::fs::remove_file(path);
    (upload, outcome)
}

fn temp_file(bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("herald-test-{}", uuid::Uuid::new_v4()));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

async fn stored_rows(pool: &PgPool, upload: i64) -> Vec<(i32, String, Vec<String>, Option<i16>)> {
    sqlx::query_as(
        "SELECT row_no, phone, params, reason FROM recipients WHERE upload_id = $1 ORDER BY row_no",
    )
    .bind(upload)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn with_catalogue(pool: PgPool) -> (TestApp, reqwest::Client, Catalogue) {
    let app = spawn(pool).await;
    let admin = app.set_up().await;
    app.create_user(&admin, MARKETER, PASSWORD, &["marketer"])
        .await;
    let user = app.user_id(MARKETER).await;
    let c = catalogue(&app.pool, user).await;
    (app, admin, c)
}

fn file_problem(outcome: Result<ImportTotals, ImportError>) -> String {
    match outcome {
        Err(ImportError::File(problem)) => problem.0,
        other => panic!("expected a file problem, got {other:?}"),
    }
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn csv_with_bom_crlf_quotes_and_empty_lines_is_read_exactly(pool: PgPool) {
    let (app, _, _) = with_catalogue(pool).await;
    let csv = "\u{feff}Mobile number,Name,Shop\r\n\
               13800000001,\"Li, Lei\",Acme\r\n\
               \r\n\
               \"+86 138-0000-0002\",\"two\nlines\",\"say \"\"hi\"\"\"\r\n\
               1.38E+10,x,y\r\n\
               13800000004,only one\r\n\
               13800000005,a,b,surplus\r\n\
               13800000001,dup,licate\r\n";
    let (upload, outcome) = import_bytes(&app.pool, csv.as_bytes()).await;
    let totals = outcome.expect("imported");
    assert_eq!(totals.total_rows, 6);
    assert_eq!(totals.accepted, 2);
    assert_eq!(totals.count(RejectReason::LostDigits), 1);
    assert_eq!(totals.count(RejectReason::MissingVariable), 1);
    assert_eq!(totals.count(RejectReason::ExtraColumns), 1);
    assert_eq!(totals.count(RejectReason::Duplicate), 1);
    let rows = stored_rows(&app.pool, upload).await;
    assert_eq!(
        rows[0],
        (
            2,
            "+8613800000001".into(),
            vec!["Li, Lei".into(), "Acme".into()],
            None
        )
    );
    assert_eq!(
        rows[1],
        (
            4,
            "+8613800000002".into(),
            vec!["two\nlines".into(), "say \"hi\"".into()],
            None
        )
    );
    // Rejected rows keep what the file said, with their reason.
    assert_eq!(rows[2].1, "1.38E+10");
    assert_eq!(rows[2].3, Some(RejectReason::LostDigits.code()));
    assert_eq!(rows.len(), 6, "every row is kept, accepted or not");
    let ready: String = sqlx::query_scalar("SELECT state FROM recipient_uploads WHERE id = $1")
        .bind(upload)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(ready, "ready");
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn gbk_and_tab_separated_files_are_decoded(pool: PgPool) {
    let (app, _, _) = with_catalogue(pool).await;
    let (gbk, _, unmappable) =
        encoding_rs::GBK.encode("手机号码,称呼,门店\n13800000001,李雷,北京店\n");
    assert!(!unmappable);
    let (upload, outcome) = import_bytes(&app.pool, &gbk).await;
    assert_eq!(outcome.unwrap().accepted, 1);
    assert_eq!(
        stored_rows(&app.pool, upload).await[0].2,
        ["李雷", "北京店"]
    );

    let (upload, outcome) = import_bytes(&app.pool, b"13800000001\tLi\tShop\n").await;
    assert_eq!(outcome.unwrap().accepted, 1, "no header, tab separated");
    assert_eq!(stored_rows(&app.pool, upload).await[0].0, 1);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn opted_out_numbers_are_removed(pool: PgPool) {
    let (app, _, _) = with_catalogue(pool).await;
    sqlx::query("INSERT INTO opt_outs (phone, source) VALUES ('+8613800000002', 'console')")
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, outcome) = import_bytes(&app.pool, b"13800000001,a,b\n13800000002,a,b\n").await;
    let totals = outcome.unwrap();
    assert_eq!(
        (totals.accepted, totals.count(RejectReason::OptedOut)),
        (1, 1)
    );
}

fn workbook_bytes(build: impl FnOnce(&mut Workbook)) -> Vec<u8> {
    let mut workbook = Workbook::new();
    build(&mut workbook);
    workbook.save_to_buffer().unwrap()
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn xlsx_numeric_formula_and_merged_cells_are_read_from_the_first_sheet(pool: PgPool) {
    let (app, _, _) = with_catalogue(pool).await;
    let bytes = workbook_bytes(|wb| {
        let sheet = wb.add_worksheet();
        // A merged title over the variable columns, as people decorate headers.
        sheet.write_string(0, 0, "Mobile").unwrap();
        sheet
            .merge_range(0, 1, 0, 2, "Variables", &Format::new())
            .unwrap();
        // Excel turned the number into a numeric cell.
        sheet.write_number(1, 0, 13800000001.0).unwrap();
        sheet.write_string(1, 1, "Li").unwrap();
        sheet.write_number(1, 2, 42.0).unwrap();
        // A formula with its cached result.
        sheet
            .write_formula(
                2,
                0,
                Formula::new("=\"1380000000\"&\"2\"").set_result("13800000002"),
            )
            .unwrap();
        sheet.write_string(2, 1, "Wang").unwrap();
        sheet.write_string(2, 2, "Shop").unwrap();
        // Shown by Excel as 1.38E+10, stored in full.
        sheet.write_number(3, 0, 1.38e10).unwrap();
        sheet.write_string(3, 1, "x").unwrap();
        sheet.write_string(3, 2, "y").unwrap();
        let other = wb.add_worksheet();
        other.write_string(0, 0, "13900000000").unwrap();
    });
    let (upload, outcome) = import_bytes(&app.pool, &bytes).await;
    let totals = outcome.expect("imported");
    assert_eq!(totals.total_rows, 3, "header skipped, second sheet ignored");
    assert_eq!(totals.accepted, 3);
    let rows = stored_rows(&app.pool, upload).await;
    assert_eq!(
        rows[0],
        (
            2,
            "+8613800000001".into(),
            vec!["Li".into(), "42".into()],
            None
        )
    );
    assert_eq!(rows[1].1, "+8613800000002");
    // A numeric cell holds the whole number, however Excel displays it (1.38E+10).
    assert_eq!((rows[2].0, rows[2].1.as_str()), (4, "+8613800000000"));
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn an_xlsx_that_is_really_csv_is_read_as_csv(pool: PgPool) {
    let (app, _, _) = with_catalogue(pool).await;
    // The name does not matter: the content decides.
    let (_, outcome) = import_bytes(&app.pool, b"Mobile,a,b\n13800000001,x,y\n").await;
    assert_eq!(outcome.unwrap().accepted, 1);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_zip_bomb_is_refused_without_being_expanded(pool: PgPool) {
    let (app, _, _) = with_catalogue(pool).await;
    let mut bytes = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        zip.start_file("[Content_Types].xml", options).unwrap();
        zip.write_all(b"<Types/>").unwrap();
        zip.start_file("xl/sharedStrings.xml", options).unwrap();
        let block = vec![b'a'; 1 << 20];
        for _ in 0..110 {
            zip.write_all(&block).unwrap();
        }
        zip.finish().unwrap();
    }
    assert!(
        bytes.len() < 2 << 20,
        "the bomb is small on disk: {}",
        bytes.len()
    );
    let (upload, outcome) = import_bytes(&app.pool, &bytes).await;
    assert!(file_problem(outcome).contains("expands"));
    assert_eq!(stored_rows(&app.pool, upload).await.len(), 0);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn broken_files_store_nothing(pool: PgPool) {
    let (app, _, _) = with_catalogue(pool).await;
    let (upload, outcome) = import_bytes(&app.pool, b"Mobile number\n\n").await;
    assert!(file_problem(outcome).contains("no recipient rows"));
    assert_eq!(stored_rows(&app.pool, upload).await.len(), 0);
    let (_, outcome) = import_bytes(&app.pool, b"PK\x03\x04 not really a zip").await;
    assert!(file_problem(outcome).contains("XLSX"));
    // Valid UTF-8 for the first 64 KiB, then a GBK row: refused, not half-imported.
    let mut mixed = b"13800000001,a,b\n".repeat(5000);
    mixed.extend_from_slice(&encoding_rs::GBK.encode("13800000002,李,b\n").0);
    let (upload, outcome) = import_bytes(&app.pool, &mixed).await;
    assert!(file_problem(outcome).contains("not UTF-8"));
    assert_eq!(stored_rows(&app.pool, upload).await.len(), 0);
}

// ------------------------------------------------------------------------------------------
// Through the console

async fn reserved(app: &TestApp) -> i64 {
    app.count("SELECT coalesce(sum(reserved), 0)::bigint FROM sms_packages")
        .await
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn a_marketer_uploads_confirms_the_fee_schedules_and_cancels(pool: PgPool) {
    let (app, admin, c) = with_catalogue(pool).await;
    let (marketer, _, _) = app.log_in(MARKETER, PASSWORD).await;
    let long_name = "长".repeat(40);
    let csv = format!(
        "Mobile number,Name,Shop\n13800000001,Li,Acme\n13800000002,{long_name},Acme\nnot a number,x,y\n13800000001,again,Acme\n"
    );
    let (status, body) = app
        .upload_file(
            &marketer,
            &c,
            c.notification,
            "spring.csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let upload = body["upload_id"].as_i64().unwrap();
    let report = app.report_when_ready(&marketer, upload).await;
    assert_eq!(report["state"], "Ready", "{report}");
    assert_eq!(report["total_rows"], 4);
    assert_eq!(report["accepted"], 2);
    assert_eq!(report["duplicates"], 1);
    assert_eq!(report["rejected"][0][0], "InvalidNumber");
    // 【Herald】 + the body: the long name makes the second message two parts.
    assert_eq!(report["units"], 3, "{report}");

    let rejected = marketer
        .get(format!("{}/bulk/uploads/{upload}/rejected.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), StatusCode::OK);
    let text = rejected.text().await.unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "row,mobile number,reason,variables");
    assert_eq!(lines[1], "4,not a number,invalid mobile number,x,y");
    assert_eq!(
        lines[2],
        "5,13800000001,duplicate number (first row kept),again,Acme"
    );
    // Someone else's upload is not theirs to read.
    let stranger = browser();
    let refused = stranger
        .get(format!("{}/bulk/uploads/{upload}/rejected.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%dT10:00:00")
        .to_string();
    let confirm = |consent: bool, mode: &'static str| {
        let mut form = vec![
            ("upload_id", upload.to_string()),
            ("name", "Spring greetings".to_owned()),
            ("send_mode", mode.to_owned()),
            ("send_at", tomorrow.clone()),
            ("time_zone", "Asia/Shanghai".to_owned()),
        ];
        if consent {
            form.push(("consent", "yes".to_owned()));
        }
        form
    };
    let call = |form: Vec<(&'static str, String)>| {
        let app = &app;
        let marketer = &marketer;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(marketer, "create_task", &form).await
        }
    };
    let (status, body) = call(confirm(false, "schedule")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Invalid"][0]["field"], "consent");

    let (status, body) = call(confirm(true, "schedule")).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{body}");
    assert_eq!(body["InsufficientBalance"]["needed"], 3);
    assert_eq!(app.count("SELECT count(*) FROM tasks").await, 0);

    let (status, _) = app
        .call(
            &admin,
            "add_sms_package",
            &[
                ("units", "10"),
                ("package_type", "1"),
                ("expires_on", ""),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(confirm(true, "schedule")).await;
    assert!(
        status.is_success() || status.is_redirection(),
        "{status} {body}"
    );
    let task: i64 = app.count("SELECT id FROM tasks").await;
    assert_eq!(reserved(&app).await, 3);
    let (status, _) = call(confirm(true, "schedule")).await;
    assert_eq!(status, StatusCode::CONFLICT, "one task per upload");

    let (_, page) = app.call(&marketer, "list_tasks", &[]).await;
    let listed = &page["tasks"][0];
    assert_eq!(listed["status"], "Scheduled");
    assert_eq!(listed["recipients"], 2);
    assert_eq!(listed["time_zone"], "Asia/Shanghai");
    let send_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(listed["send_at"].clone()).unwrap();
    assert_eq!(
        send_at
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%H:%M:%S")
            .to_string(),
        "10:00:00"
    );
    let (_, filtered) = app
        .call(&marketer, "list_tasks", &[("status", "sending")])
        .await;
    assert_eq!(filtered["tasks"].as_array().unwrap().len(), 0);

    let id = task.to_string();
    let (status, _) = app
        .call(
            &marketer,
            "change_task",
            &[("id", &id), ("action", "pause")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a scheduled task cannot be paused"
    );

    // The template cannot be deleted from under a task that will still send with it.
    app.create_user(&admin, "olga@example.com", PASSWORD, &["operator"])
        .await;
    let (operator, _, _) = app.log_in("olga@example.com", PASSWORD).await;
    let template = c.notification.to_string();
    let delete = [("id", template.as_str()), ("confirm", "on")];
    let (status, body) = app.call(&operator, "delete_template", &delete).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, _) = app
        .call(
            &marketer,
            "change_task",
            &[("id", &id), ("action", "cancel")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reserved(&app).await, 0, "cancelling gives the units back");
    let (status, _) = app
        .call(
            &marketer,
            "change_task",
            &[("id", &id), ("action", "cancel")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Once the task is over, the template may go; the task keeps what it sent.
    let (status, body) = app.call(&operator, "delete_template", &delete).await;
    assert!(
        status.is_success() || status.is_redirection(),
        "{status} {body}"
    );
    let (_, page) = app.call(&marketer, "list_tasks", &[]).await;
    assert_eq!(page["tasks"][0]["template"], "Greeting");
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE action IN ('task.create', 'task.cancel')")
            .await,
        2
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn marketing_tasks_keep_to_the_window_and_sending_tasks_pause_and_resume(pool: PgPool) {
    let (app, admin, c) = with_catalogue(pool).await;
    let (marketer, _, _) = app.log_in(MARKETER, PASSWORD).await;
    app.call(
        &admin,
        "add_sms_package",
        &[
            ("units", "100"),
            ("package_type", "0"),
            ("expires_on", ""),
            ("note", ""),
        ],
    )
    .await;
    let (_, body) = app
        .upload_file(
            &marketer,
            &c,
            c.marketing,
            "sale.xlsx",
            workbook_bytes(|wb| {
                let sheet = wb.add_worksheet();
                sheet.write_string(0, 0, "13800000001").unwrap();
                sheet.write_string(0, 1, "Li").unwrap();
            }),
        )
        .await;
    let upload = body["upload_id"].as_i64().expect("upload id").to_string();
    let report = app
        .report_when_ready(&marketer, upload.parse().unwrap())
        .await;
    assert_eq!(report["marketing"], true);
    let day = (chrono::Utc::now() + chrono::Duration::days(2))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string();
    let create = |at: String, zone: &'static str| {
        let (app, marketer, upload) = (&app, &marketer, upload.clone());
        async move {
            app.call(
                marketer,
                "create_task",
                &[
                    ("upload_id", &upload),
                    ("name", "Sale"),
                    ("send_mode", "schedule"),
                    ("send_at", &at),
                    ("time_zone", zone),
                    ("consent", "yes"),
                ],
            )
            .await
        }
    };
    let (status, body) = create(format!("{day}T22:30:00"), "Asia/Shanghai").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["Invalid"][0]["message"]
            .as_str()
            .unwrap()
            .contains("08:00–22:00"),
        "{body}"
    );
    // 15:00 in London is 23:00 in China.
    let (status, _) = create(format!("{day}T15:00:00"), "Europe/London").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = create(format!("{day}T09:00:00"), "Asia/Shanghai").await;
    assert!(
        status.is_success() || status.is_redirection(),
        "{status} {body}"
    );

    // Pausing and resuming a task that is sending.
    sqlx::query("UPDATE tasks SET status = 'sending'")
        .execute(&app.pool)
        .await
        .unwrap();
    let id = app.count("SELECT id FROM tasks").await.to_string();
    for (action, expected) in [
        ("pause", "paused"),
        ("resume", "sending"),
        ("pause", "paused"),
        ("cancel", "cancelled"),
    ] {
        let (status, body) = app
            .call(&marketer, "change_task", &[("id", &id), ("action", action)])
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
        let now: String = sqlx::query_scalar("SELECT status FROM tasks")
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(now, expected);
    }
    assert_eq!(reserved(&app).await, 0);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn uploads_are_checked_before_anything_is_stored(pool: PgPool) {
    let (app, _, c) = with_catalogue(pool).await;
    let (marketer, _, _) = app.log_in(MARKETER, PASSWORD).await;
    let too_big = vec![b'1'; 30 * 1024 * 1024 + 1];
    let (status, body) = app
        .upload_file(&marketer, &c, c.notification, "big.csv", too_big)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["message"].as_str().unwrap().contains("30 MB"));
    let (status, body) = app
        .upload_file(&marketer, &c, 999, "x.csv", b"13800000001,a,b\n".to_vec())
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "template_id");
    assert_eq!(app.count("SELECT count(*) FROM recipient_uploads").await, 0);

    // Operators do not run bulk tasks.
    let (admin_client, _, _) = app
        .log_in(common::ADMIN_EMAIL, common::ADMIN_PASSWORD)
        .await;
    let (status, _) = app
        .upload_file(&admin_client, &c, c.notification, "x.csv", b"1".to_vec())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn the_standard_template_has_a_column_per_variable(pool: PgPool) {
    let (app, _, c) = with_catalogue(pool).await;
    let (marketer, _, _) = app.log_in(MARKETER, PASSWORD).await;
    let csv = marketer
        .get(format!("{}/bulk/standard/{}.csv", app.base, c.notification))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv.trim_start_matches('\u{feff}')
            .lines()
            .collect::<Vec<_>>(),
        [
            "Mobile number,SMS content variable 1 ({1}),SMS content variable 2 ({2})",
            "13800000000,value 1,value 2"
        ]
    );
    let xlsx = marketer
        .get(format!(
            "{}/bulk/standard/{}.xlsx",
            app.base, c.notification
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    use calamine::{Data, Reader};
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let range = workbook.worksheet_range("Recipients").unwrap();
    assert_eq!(
        range.get_value((0, 2)),
        Some(&Data::String("SMS content variable 2 ({2})".into()))
    );
    // The mobile number is text, not a number Excel would reformat.
    assert_eq!(
        range.get_value((1, 0)),
        Some(&Data::String("13800000000".into()))
    );
    // The filled-in template is accepted as it is.
    let (status, body) = app
        .upload_file(&marketer, &c, c.notification, "t.xlsx", {
            let mut bytes = Vec::new();
            std::io::copy(&mut std::io::Cursor::new(xlsx.to_vec()), &mut bytes).unwrap();
            bytes
        })
        .await;
    assert_eq!(status, StatusCode::OK);
    let report = app
        .report_when_ready(&marketer, body["upload_id"].as_i64().unwrap())
        .await;
    assert_eq!(
        (report["total_rows"].clone(), report["accepted"].clone()),
        (1.into(), 1.into())
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn week_old_uploads_without_a_task_are_dropped_with_their_rows(pool: PgPool) {
    let (app, _, _) = with_catalogue(pool).await;
    let (kept, _) = import_bytes(&app.pool, b"13800000001,a,b\n").await;
    let (old, _) = import_bytes(&app.pool, b"13800000002,a,b\n").await;
    sqlx::query(
        "UPDATE recipient_uploads SET created_at = now() - interval '8 days' WHERE id = $1",
    )
    .bind(old)
    .execute(&app.pool)
    .await
    .unwrap();
    let deleted = app::campaigns::repo::delete_abandoned_uploads(&app.pool, 7)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(stored_rows(&app.pool, old).await.len(), 0);
    assert_eq!(stored_rows(&app.pool, kept).await.len(), 1);
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn legacy_xls_workbooks_are_read(pool: PgPool) {
    let (app, _, _) = with_catalogue(pool).await;
    let bytes = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/recipients.xls"
    ));
    let (upload, outcome) = import_bytes(&app.pool, bytes).await;
    let totals = outcome.expect("imported");
    assert_eq!((totals.total_rows, totals.accepted), (3, 2));
    let rows = stored_rows(&app.pool, upload).await;
    assert_eq!(
        rows[0],
        (
            2,
            "+8613800000001".into(),
            vec!["李雷".into(), "北京店".into()],
            None
        )
    );
    assert_eq!(rows[1].1, "+8613800000002");
    assert_eq!(
        (rows[2].0, rows[2].3),
        (5, Some(RejectReason::InvalidNumber.code()))
    );
}

/// Cells a spreadsheet would run as formulas come back from the downloads as text (an
/// apostrophe first); signed numbers stay numbers.
#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn downloads_never_hand_a_spreadsheet_a_formula(pool: PgPool) {
    let (app, _, c) = with_catalogue(pool).await;
    let (marketer, _, _) = app.log_in(MARKETER, PASSWORD).await;
    let csv = "Mobile number,Name,Shop\n13800000001,Li,-5\n=1+2,=HYPERLINK(\"http://evil.example\"),-5\n13800000001,@SUM(A1),+1-cmd\n";
    let (status, body) = app
        .upload_file(&marketer, &c, c.notification, "formulas.csv", csv.into())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let upload = body["upload_id"].as_i64().unwrap();
    app.report_when_ready(&marketer, upload).await;
    let text = marketer
        .get(format!("{}/bulk/uploads/{upload}/rejected.csv", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .collect();
    assert_eq!(
        lines,
        [
            "3,'=1+2,invalid mobile number,\"'=HYPERLINK(\"\"http://evil.example\"\")\",-5",
            "4,13800000001,duplicate number (first row kept),'@SUM(A1),'+1-cmd",
        ]
    );
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn carrier_codes_in_the_records_export_are_text(pool: PgPool) {
    use crate::common::sending::{now, task, world, MARKETER_EMAIL, MARKETER_PASSWORD};
    let w = world(pool, app::carriers::model::SimulatorSettings::default()).await;
    let task = task(&w, 1, 1, now()).await;
    sqlx::query("UPDATE messages SET code = '=2+3', serial_no = '@x' WHERE task_id = $1")
        .bind(task)
        .execute(&w.app.pool)
        .await
        .unwrap();
    let (mia, _, _) = w.app.log_in(MARKETER_EMAIL, MARKETER_PASSWORD).await;
    let text = mia
        .get(format!("{}/records/{task}/messages.csv", w.app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let record = text.lines().nth(1).expect("one record");
    assert!(record.contains(",'=2+3,'@x,"), "{record}");
}
