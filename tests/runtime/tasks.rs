//! The session travels with the request's task: concurrent requests on one task never see
//! each other's session, a session handle keeps working in a task the handler spawns, and a
//! middleware that moves the handler to another task gets a clear error, never a session.

use axum::Router;
use axum::routing;
use session_runtime::{Session, SessionLayer};

use crate::common::{AppSession, config, fixture, get, post};

#[tokio::test]
async fn concurrent_requests_on_one_task_each_see_their_own_session() {
    let (_, store, clock) = fixture();
    // A handler that yields between loading its session and reading it, so that the
    // requests interleave on the one task that polls them all.
    async fn slow_read(s: Session<AppSession>) -> String {
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        format!("{:?}", s.user_id())
    }
    let app = crate::common::routes::routes()
        .route("/slow", routing::get(slow_read))
        .layer(SessionLayer::new(store, config(&clock)));
    let mut tokens = Vec::new();
    for id in 1..=4 {
        tokens.push(
            post(&app, &format!("/login/{id}"), None)
                .await
                .token()
                .unwrap(),
        );
    }
    let replies = futures_join_all(&app, &tokens).await;
    for (id, reply) in (1..=4).zip(replies) {
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, format!("Some({id})"));
    }
    // A guest request interleaved with them stays a guest.
    let guest = get(&app, "/slow", None).await;
    assert_eq!(guest.body, "None");
}

/// Polls one `/slow` request per token concurrently, on the current task.
async fn futures_join_all(app: &Router, tokens: &[String]) -> Vec<crate::common::Reply> {
    let [a, b, c, d] = tokens else {
        panic!("four tokens")
    };
    let (a, b, c, d) = tokio::join!(
        get(app, "/slow", Some(a)),
        get(app, "/slow", Some(b)),
        get(app, "/slow", Some(c)),
        get(app, "/slow", Some(d)),
    );
    vec![a, b, c, d]
}

#[tokio::test]
async fn a_handle_keeps_working_in_a_task_the_handler_spawns() {
    let (_, store, clock) = fixture();
    async fn spawned_write(s: Session<AppSession>) -> &'static str {
        tokio::spawn(async move { s.set_note("from a task".to_owned()) })
            .await
            .expect("task ran")
            .expect("fits");
        "ok"
    }
    let app = crate::common::routes::routes()
        .route("/spawned", routing::post(spawned_write))
        .layer(SessionLayer::new(store, config(&clock)));
    let token = post(&app, "/login/1", None).await.token().unwrap();
    assert_eq!(post(&app, "/spawned", Some(&token)).await.status, 200);
    let read = get(&app, "/read", Some(&token)).await;
    assert_eq!(read.json()["note"], "from a task");
}

#[tokio::test]
async fn a_handler_moved_to_another_task_gets_a_clear_500_not_a_session() {
    let (_, store, clock) = fixture();
    // A middleware between the layer and the handler that runs the handler on a new task.
    let spawning = axum::middleware::from_fn(
        |req: axum::extract::Request, next: axum::middleware::Next| async move {
            tokio::spawn(next.run(req)).await.expect("handler task")
        },
    );
    let app = crate::common::routes::routes()
        .layer(spawning)
        .layer(SessionLayer::new(store, config(&clock)));
    let public = get(&app, "/public", None).await;
    assert_eq!(
        public.status, 200,
        "routes that ignore the session still work"
    );
    let r = get(&app, "/read", None).await;
    assert_eq!(r.status, 500);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("SessionLayer")
    );
    assert!(r.set_cookie("session").is_none(), "no session, no cookie");
}
