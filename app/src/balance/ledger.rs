//! The one place units move. A task reserves what it may send when it starts, consumes as its
//! messages go out and releases what is left when it ends; what is available is what the packages
//! in force hold free. Packages are always spent, and locked, in one order (the soonest to expire
//! first), so movements running together wait for each other instead of deadlocking.

use sqlx::PgConnection;

use crate::error::AppError;

/// Units free to reserve now, over every package in force.
pub async fn available(conn: &mut PgConnection) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT coalesce(sum(units - used - reserved), 0)::bigint AS "available!"
             FROM sms_packages
            WHERE effective_at <= now() AND (expires_at IS NULL OR expires_at > now())"#,
    )
    .fetch_one(conn)
    .await?)
}

/// Holds `units` for a task, drawing on packages in spend order; a shortage refuses it whole.
pub async fn reserve(conn: &mut PgConnection, task_id: i64, units: i64) -> Result<(), AppError> {
    let packages = locked_free_units(conn).await?;
    let (taken, short) = spend(&packages, units);
    if short > 0 {
        return Err(AppError::InsufficientBalance {
            needed: units,
            available: units - short,
        });
    }
    for (package, take) in taken {
        sqlx::query!(
            "UPDATE sms_packages SET reserved = reserved + $2 WHERE id = $1",
            package,
            take,
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!(
            "INSERT INTO task_reservations (task_id, package_id, units) VALUES ($1, $2, $3)",
            task_id,
            package,
            take,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Moves `units` of sent messages from the task's reservation to `used`. Units no reservation
/// held (a verification stream's, or a batch in flight when its task was cancelled) are charged
/// to the packages' free units: stream requests check the balance without holding units, so
/// near zero a few in-flight codes can find it spent; they went out, and are logged, not lost.
pub async fn consume(conn: &mut PgConnection, task_id: i64, units: i64) -> Result<(), AppError> {
    if units == 0 {
        return Ok(());
    }
    let held = locked_reservation(conn, task_id).await?;
    let (taken, beyond) = spend(&held, units);
    for (package, take) in taken {
        sqlx::query!(
            "UPDATE sms_packages SET reserved = reserved - $2, used = used + $2 WHERE id = $1",
            package,
            take,
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!(
            "UPDATE task_reservations SET units = units - $3 WHERE task_id = $1 AND package_id = $2",
            task_id,
            package,
            take,
        )
        .execute(&mut *conn)
        .await?;
    }
    if beyond == 0 {
        return Ok(());
    }
    let packages = locked_free_units(conn).await?;
    let (taken, uncharged) = spend(&packages, beyond);
    for (package, take) in taken {
        sqlx::query!(
            "UPDATE sms_packages SET used = used + $2 WHERE id = $1",
            package,
            take,
        )
        .execute(&mut *conn)
        .await?;
    }
    if uncharged > 0 {
        tracing::warn!(
            task_id,
            units = uncharged,
            "sent units could not be charged to any package"
        );
    }
    Ok(())
}

/// Gives back what a task still holds; returns how many units that was.
pub async fn release(conn: &mut PgConnection, task_id: i64) -> Result<i64, AppError> {
    let held = locked_reservation(conn, task_id).await?;
    for (package, units) in &held {
        sqlx::query!(
            "UPDATE sms_packages SET reserved = reserved - $2 WHERE id = $1",
            package,
            units,
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!(
        "UPDATE task_reservations SET units = 0 WHERE task_id = $1",
        task_id,
    )
    .execute(&mut *conn)
    .await?;
    Ok(held.iter().map(|(_, units)| units).sum())
}

/// The packages in force with free units, as (package, free units) in spend order, locked until
/// the transaction ends.
async fn locked_free_units(conn: &mut PgConnection) -> Result<Vec<(i64, i64)>, AppError> {
    Ok(sqlx::query!(
        r#"SELECT id, units - used - reserved AS "free!" FROM sms_packages
            WHERE effective_at <= now() AND (expires_at IS NULL OR expires_at > now())
              AND units - used - reserved > 0
            ORDER BY expires_at NULLS LAST, id
            FOR UPDATE"#,
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.free))
    .collect())
}

/// What the task holds, as (package, units) in spend order, the packages locked.
async fn locked_reservation(
    conn: &mut PgConnection,
    task_id: i64,
) -> Result<Vec<(i64, i64)>, AppError> {
    Ok(sqlx::query!(
        "SELECT p.id, r.units FROM task_reservations r JOIN sms_packages p ON p.id = r.package_id
          WHERE r.task_id = $1 AND r.units > 0
          ORDER BY p.expires_at NULLS LAST, p.id
          FOR UPDATE",
        task_id,
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.units))
    .collect())
}

/// Takes `units` from `sources` (package, units there) in their order: what is taken from each
/// package used, and what no package covered.
fn spend(sources: &[(i64, i64)], units: i64) -> (Vec<(i64, i64)>, i64) {
    let mut left = units;
    let mut taken = Vec::new();
    for &(package, there) in sources {
        if left == 0 {
            break;
        }
        let take = there.min(left);
        if take > 0 {
            taken.push((package, take));
            left -= take;
        }
    }
    (taken, left)
}

#[cfg(test)]
mod tests {
    use super::spend;

    #[test]
    fn spending_draws_on_packages_in_order_and_says_what_is_short() {
        let packages = [(7, 5), (3, 10), (9, 2)];
        assert_eq!(spend(&packages, 0), (vec![], 0));
        assert_eq!(spend(&packages, 4), (vec![(7, 4)], 0));
        assert_eq!(spend(&packages, 12), (vec![(7, 5), (3, 7)], 0));
        assert_eq!(spend(&packages, 17), (vec![(7, 5), (3, 10), (9, 2)], 0));
        assert_eq!(spend(&packages, 20), (vec![(7, 5), (3, 10), (9, 2)], 3));
        assert_eq!(spend(&[], 2), (vec![], 2));
        assert_eq!(spend(&[(1, 0), (2, 3)], 2), (vec![(2, 2)], 0));
    }
}
