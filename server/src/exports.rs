//! CSV downloads over plain HTTP (a link works before hydration and streams any size): a task's
//! per-recipient records and the business statistics.

use app::accounts::model::Role;
use app::receipts::model::MessageFilter;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use std::collections::HashMap;
use tower_sessions::Session;

use crate::bulk::attachment;
use crate::documents::signed_in;

/// `/records/{task}/messages.csv?phone=&state=&code=`: every record the filter selects.
pub async fn task_messages(
    State(state): State<AppState>,
    session: Session,
    Path(task_id): Path<i64>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let readable = async {
        let user = signed_in(&state, &session, &[Role::Marketer]).await?;
        app::campaigns::service::readable_task(&state.pool, &user, task_id).await
    };
    if let Err(err) = readable.await {
        return err.into_response();
    }
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let filter = MessageFilter::parse(get("phone"), get("state"), get("code"));
    let rows = match app::receipts::repo::messages_csv(&state.pool, task_id, &filter).await {
        Ok(rows) => rows,
        Err(err) => return err.into_response(),
    };
    // A BOM so Excel reads the file as UTF-8, then the header.
    let header = futures_util::stream::once(async {
        Ok(Bytes::from_static(
            "\u{feff}mobile number,state,code,serial,units,submitted (China time),outcome at (China time)\n"
                .as_bytes(),
        ))
    });
    attachment(
        &format!("task-{task_id}-recipients.csv"),
        "text/csv; charset=utf-8",
        Body::from_stream(header.chain(rows)),
    )
}

/// `/statistics.csv?…`: the statistics page's table with the same filter.
pub async fn statistics(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(err) = signed_in(&state, &session, &[Role::Operator, Role::Marketer]).await {
        return err.into_response();
    }
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    let report = async {
        let filter = app::stats::api::parse_filter(
            get("application"),
            get("signature"),
            get("template"),
            get("sms_type"),
            get("from"),
            get("until"),
            get("granularity"),
        )?;
        app::stats::repo::statistics(&state.pool, &filter).await
    };
    let report = match report.await {
        Ok(report) => report,
        Err(err) => return err.into_response(),
    };
    let mut csv = String::from(
        "\u{feff}period (China time),requests,successful submissions,billed units,receipts delivered,receipts failed\n",
    );
    for row in report.rows.iter().chain(std::iter::once(&report.totals)) {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            row.period, row.requests, row.submitted, row.units, row.receipts_ok, row.receipts_fail
        ));
    }
    attachment("statistics.csv", "text/csv; charset=utf-8", Body::from(csv))
}
