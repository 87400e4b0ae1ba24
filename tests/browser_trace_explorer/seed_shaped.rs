//! A seed-shaped multi-agent trace: tree, collapse, selection, keyboard, links, find.

use crate::common::{eventually, js, press, texts, Browser, Collector};
use crate::{detail_shows, expected_rows, name_of, row, rows, selected_id, WAIT};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explorer_on_a_seed_shaped_trace() {
    let collector = Collector::start_demo().await;
    // A failed multi-agent run: 13 spans, nested three deep, with LLM calls and errors.
    let list = collector
        .get_json("/api/v1/traces?project=default&name=main_agent&status=error&limit=1")
        .await;
    let trace_id = list["traces"][0]["trace_id"]
        .as_str()
        .expect("a failed main_agent trace in the demo data")
        .to_string();
    let skeleton = collector
        .get_json(&format!("/api/v1/traces/{trace_id}"))
        .await;
    let spans = skeleton["spans"].as_array().unwrap().clone();
    let expected = expected_rows(&skeleton);
    assert!(expected.len() >= 13, "{expected:?}");
    let id_named = |name: &str| -> String {
        spans
            .iter()
            .find(|s| name_of(&skeleton, s) == name)
            .unwrap_or_else(|| panic!("no span {name}"))[0]
            .as_str()
            .unwrap()
            .to_string()
    };
    let root = id_named("main_agent");
    let execution = id_named("execution_agent");
    let planning = id_named("planning_agent");
    // The planner's LLM call: the child of planning_agent.
    let planning_index = spans
        .iter()
        .position(|s| s[0] == planning.as_str())
        .unwrap();
    let plan_llm = spans
        .iter()
        .find(|s| s[1].as_u64() == Some(planning_index as u64))
        .unwrap()[0]
        .as_str()
        .unwrap()
        .to_string();

    let browser = Browser::start().await;
    let driver = &browser.driver;
    driver
        .goto(collector.url(&format!("/traces/{trace_id}")))
        .await
        .unwrap();

    // The tree as sent: every span, in depth-first order, at its depth.
    let shown = eventually(WAIT, "the span rows", || async {
        let r = rows(driver).await;
        (r.len() == expected.len()).then_some(r)
    })
    .await;
    assert_eq!(shown, expected, "rows (span id, depth) in tree order");
    let title = driver.find(By::Css(".trace-header h1")).await.unwrap();
    assert_eq!(title.text().await.unwrap(), "main_agent");
    let header = texts(driver, ".trace-header").await.join(" ");
    for part in ["agent-service", "session_", "user_", &trace_id] {
        assert!(header.contains(part), "{part} in the header: {header}");
    }
    let session_link = driver
        .find(By::Css(".trace-meta a[href^='/sessions/']"))
        .await
        .expect("a link to the session");
    assert!(session_link.text().await.unwrap().starts_with("session_"));
    driver
        .find(By::Css(".trace-meta a[href^='/users/']"))
        .await
        .expect("a link to the user");
    // The header's tag chips wrap, so each key shows whole (`request_sequence`, not cut).
    let cut_keys = js(
        driver,
        "return [...document.querySelectorAll('.trace-chips .tag-chip .tag-key')]
            .filter(k => k.scrollWidth > k.clientWidth + 1).map(k => k.textContent)",
    )
    .await;
    assert_eq!(cut_keys, json!([]), "tag keys cut in the trace header");
    // Failed spans are marked; LLM spans show their tokens.
    let failed = js(
        driver,
        "return document.querySelectorAll('.span-row.row-error').length",
    )
    .await;
    assert!(failed.as_u64().unwrap() >= 2, "failed rows: {failed}");
    let llm_row = row(driver, &plan_llm).await;
    let llm_text = llm_row.text().await.unwrap();
    assert!(
        llm_text.contains("tok"),
        "tokens on the LLM row: {llm_text}"
    );
    // The app's own timings, for benchmarks.
    let marks = js(
        driver,
        "return ['skein:trace-fetched', 'skein:trace-painted', 'skein:trace-load']
            .map(n => performance.getEntriesByName(n).length)",
    )
    .await;
    assert_eq!(marks, json!([1, 1, 1]), "performance marks and measures");

    // Collapse execution_agent: its subtree leaves the DOM; expand: it is back.
    let exec_at = expected
        .iter()
        .position(|(id, _)| *id == execution)
        .unwrap();
    let exec_depth = expected[exec_at].1;
    let subtree = expected[exec_at + 1..]
        .iter()
        .take_while(|(_, d)| *d > exec_depth)
        .count();
    assert!(
        subtree >= 6,
        "execution_agent has sub-agents and their calls"
    );
    row(driver, &execution)
        .await
        .find(By::Css(".twisty"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let collapsed = eventually(WAIT, "execution_agent collapsed", || async {
        let r = rows(driver).await;
        (r.len() == expected.len() - subtree).then_some(r)
    })
    .await;
    assert!(collapsed.iter().any(|(id, _)| *id == execution));
    let exec_row = row(driver, &execution).await;
    assert_eq!(
        exec_row.attr("aria-expanded").await.unwrap().as_deref(),
        Some("false")
    );
    assert!(
        exec_row
            .text()
            .await
            .unwrap()
            .contains(&format!("+{subtree}")),
        "the hidden count"
    );
    exec_row
        .find(By::Css(".twisty"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "execution_agent expanded", || async {
        (rows(driver).await == expected).then_some(())
    })
    .await;
    // Collapse all, expand all, and a level.
    driver
        .find(By::XPath("//button[normalize-space()='Collapse all']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "only the root", || async {
        (rows(driver).await == vec![(root.clone(), 0)]).then_some(())
    })
    .await;
    driver
        .find(By::Css("select[name=levels] option[value='2']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "two levels", || async {
        let r = rows(driver).await;
        let want: Vec<_> = expected.iter().filter(|(_, d)| *d <= 1).cloned().collect();
        (r == want).then_some(())
    })
    .await;
    driver
        .find(By::XPath("//button[normalize-space()='Expand all']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "every row again", || async {
        (rows(driver).await == expected).then_some(())
    })
    .await;

    // Zoom: drag across the first third of the ruler. The window narrows, the late
    // synthesis_agent leaves the waterfall; Reset zoom brings it back.
    let synthesis = id_named("synthesis_agent");
    let has_bar = |id: String| async move {
        js(
            driver,
            &format!("return !!document.querySelector(\".span-row[data-span-id='{id}'] .bar\")"),
        )
        .await
            == json!(true)
    };
    assert!(has_bar(synthesis.clone()).await);
    let ruler = driver.find(By::Css(".ruler")).await.unwrap();
    let width = ruler.rect().await.unwrap().width;
    driver
        .action_chain()
        .move_to_element_with_offset(&ruler, (-width * 0.48) as i64, 0)
        .click_and_hold()
        .move_by_offset((width * 0.3) as i64, 0)
        .release()
        .perform()
        .await
        .unwrap();
    let zoomed = eventually(WAIT, "the zoomed waterfall", || async {
        let label = texts(driver, ".head-zoom").await.join("");
        (label.contains(" – ") && !texts(driver, ".zoom-reset").await.is_empty()).then_some(label)
    })
    .await;
    assert!(
        !has_bar(synthesis.clone()).await,
        "synthesis_agent is outside {zoomed}"
    );
    assert!(
        has_bar(root.clone()).await,
        "the root still spans the window"
    );
    driver
        .find(By::Css(".zoom-reset"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(WAIT, "the whole trace again", || async {
        (texts(driver, ".zoom-reset").await.is_empty() && has_bar(synthesis.clone()).await)
            .then_some(())
    })
    .await;

    // Select by click: the detail panel fetches the span and shows its input as a chat.
    row(driver, &plan_llm).await.click().await.unwrap();
    detail_shows(driver, &plan_llm).await;
    let full = collector
        .get_json(&format!("/api/v1/traces/{trace_id}/spans/{plan_llm}"))
        .await;
    let question = full["input"].as_str().expect("the LLM call's input");
    let chat = eventually(WAIT, "the input as a conversation", || async {
        let msgs = texts(driver, "[data-testid=detail-input] .chat .msg").await;
        (msgs.len() == 2).then_some(msgs)
    })
    .await;
    assert!(
        chat[0].to_lowercase().starts_with("system")
            && chat[0].contains("careful research assistant"),
        "{chat:?}"
    );
    let asked: Value = serde_json::from_str(question).unwrap();
    let user_text = asked[1]["content"].as_str().unwrap();
    assert!(chat[1].contains(user_text), "{chat:?} vs {user_text}");
    let panel = texts(driver, ".detail-panel")
        .await
        .join(" ")
        .to_lowercase();
    for part in [
        "tokens",
        "cost",
        "model",
        "self time",
        "attributes",
        "gen_ai.request.model",
    ] {
        assert!(panel.contains(part), "{part} in the panel: {panel}");
    }
    let url = driver.current_url().await.unwrap();
    assert!(
        url.query()
            .unwrap_or("")
            .contains(&format!("span={plan_llm}")),
        "{url}"
    );
    // Its parent by name and type, a link to the parent's place in the trace.
    let parent = driver
        .find(By::Css("[data-testid=detail-parent]"))
        .await
        .unwrap();
    assert_eq!(parent.text().await.unwrap().trim(), "planning_agent");
    let href = parent.attr("href").await.unwrap().unwrap_or_default();
    assert!(href.contains(&format!("span={planning}")), "{href}");
    let parent_title = parent.attr("title").await.unwrap().unwrap_or_default();
    assert!(parent_title.contains(&planning), "{parent_title}");

    // Keyboard: up moves to planning_agent (the row above), j/k move down and up, Enter
    // opens the detail after Escape closed it.
    press(driver, Key::Up).await;
    eventually(WAIT, "planning_agent selected", || async {
        (selected_id(driver).await.as_deref() == Some(planning.as_str())).then_some(())
    })
    .await;
    detail_shows(driver, &planning).await;
    press(driver, 'j').await;
    eventually(WAIT, "back down with j", || async {
        (selected_id(driver).await.as_deref() == Some(plan_llm.as_str())).then_some(())
    })
    .await;
    press(driver, Key::Escape).await;
    eventually(WAIT, "the panel closed", || async {
        let display = js(
            driver,
            "return getComputedStyle(document.querySelector('.detail-panel')).display",
        )
        .await;
        (display == json!("none")).then_some(())
    })
    .await;
    // Home goes to the root; Enter opens it: its input is the user's question (plain text).
    press(driver, Key::Home).await;
    press(driver, Key::Enter).await;
    let root_input = detail_shows(driver, &root).await;
    let root_full = collector
        .get_json(&format!("/api/v1/traces/{trace_id}/spans/{root}"))
        .await;
    assert!(
        root_input.contains(root_full["input"].as_str().unwrap()),
        "{root_input}"
    );
    // Left collapses the selected node, Right expands it, k from the root stays on it.
    press(driver, Key::Left).await;
    eventually(WAIT, "the root collapsed by keyboard", || async {
        (rows(driver).await.len() == 1).then_some(())
    })
    .await;
    press(driver, Key::Right).await;
    eventually(WAIT, "the root expanded by keyboard", || async {
        (rows(driver).await == expected).then_some(())
    })
    .await;
    press(driver, 'k').await;
    assert_eq!(selected_id(driver).await.as_deref(), Some(root.as_str()));

    // A link to a span deep in the tree reopens it on load: selected, in the panel.
    let failed_llm = spans
        .iter()
        .find(|s| s[4].as_u64() == Some(1) && s[7].as_u64() == Some(2))
        .map(|s| s[0].as_str().unwrap().to_string())
        .expect("the failed LLM call");
    driver
        .goto(collector.url(&format!("/traces/{trace_id}?span={failed_llm}")))
        .await
        .unwrap();
    detail_shows(driver, &failed_llm).await;
    assert_eq!(selected_id(driver).await, Some(failed_llm.clone()));
    let error = eventually(WAIT, "the exception with its stack trace", || async {
        texts(driver, ".detail-panel .exception")
            .await
            .into_iter()
            .next()
    })
    .await;
    assert!(
        error.contains("TimeoutError") && error.contains("Traceback"),
        "{error}"
    );
    driver.refresh().await.unwrap();
    detail_shows(driver, &failed_llm).await;
    assert_eq!(selected_id(driver).await, Some(failed_llm.clone()));

    // Find: matches are highlighted, counted, stepped through; "only matches" hides the rest.
    // Names match at once; the collector adds spans holding the text elsewhere (an agent's
    // output naming its sub-agents).
    let find_ids = |q: &'static str, local: Vec<String>| {
        let collector = &collector;
        let trace_id = trace_id.clone();
        async move {
            let found = collector
                .get_json(&format!("/api/v1/traces/{trace_id}/search?q={q}"))
                .await;
            let mut ids: std::collections::BTreeSet<String> = local.into_iter().collect();
            ids.extend(
                found["span_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string()),
            );
            ids
        }
    };
    let sub_agents = find_ids(
        "sub_agent",
        spans
            .iter()
            .filter(|s| name_of(&skeleton, s).contains("sub_agent"))
            .map(|s| s[0].as_str().unwrap().to_string())
            .collect(),
    )
    .await;
    let n = sub_agents.len();
    // What "only matches" keeps: the matches and their ancestors.
    let mut kept = sub_agents.clone();
    for id in &sub_agents {
        let mut at = spans.iter().position(|s| s[0] == id.as_str()).unwrap();
        while let Some(p) = spans[at][1].as_i64().filter(|&p| p >= 0) {
            at = p as usize;
            kept.insert(spans[at][0].as_str().unwrap().to_string());
        }
    }
    let find = driver.find(By::Css("input[name=find]")).await.unwrap();
    find.send_keys("sub_agent").await.unwrap();
    let marked = eventually(WAIT, "three highlighted matches", || async {
        let m = texts(driver, ".span-row.match mark").await;
        (m.len() == 3).then_some(m)
    })
    .await;
    assert!(marked.iter().all(|m| m == "sub_agent"), "{marked:?}");
    // Counted ("k of n" when the selected span is one of them).
    eventually(WAIT, "the matches counted", || async {
        let count = texts(driver, ".find-count").await.into_iter().next()?;
        (count == format!("{n} matches") || count.ends_with(&format!(" of {n}"))).then_some(())
    })
    .await;
    // Enter jumps to the next match after the selection (here, a span inside sub_agent_2's
    // subtree is selected), Enter again to the one after, wrapping around.
    find.send_keys(Key::Enter).await.unwrap();
    let at = eventually(WAIT, "a match selected", || async {
        let count = texts(driver, ".find-count").await.into_iter().next()?;
        let k: usize = count.strip_suffix(&format!(" of {n}"))?.parse().ok()?;
        Some(k)
    })
    .await;
    let first_match = selected_id(driver).await.unwrap();
    assert!(
        sub_agents.contains(&first_match),
        "the selected row is a match"
    );
    find.send_keys(Key::Enter).await.unwrap();
    let next = format!("{} of {n}", at % n + 1);
    eventually(WAIT, "the next match", || async {
        (texts(driver, ".find-count").await == vec![next.clone()]).then_some(())
    })
    .await;
    assert_ne!(selected_id(driver).await.unwrap(), first_match);
    driver
        .find(By::Css("input[name=only-matches]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let only = eventually(WAIT, "only matches and their ancestors", || async {
        let r = rows(driver).await;
        (r.len() == kept.len()).then_some(r)
    })
    .await;
    let only_ids: Vec<&str> = only.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        &only_ids[..2],
        &[root.as_str(), execution.as_str()],
        "{only:?}"
    );
    // Types match too: "llm" finds the LLM calls.
    find.clear().await.unwrap();
    find.send_keys("llm").await.unwrap();
    let llm_calls = find_ids(
        "llm",
        spans
            .iter()
            .filter(|s| s[4].as_u64() == Some(1))
            .map(|s| s[0].as_str().unwrap().to_string())
            .collect(),
    )
    .await
    .len();
    eventually(WAIT, "the LLM calls", || async {
        let count = texts(driver, ".find-count").await;
        (count == vec![format!("{llm_calls} matches")]).then_some(())
    })
    .await;
    find.clear().await.unwrap();
    find.send_keys("no such span").await.unwrap();
    eventually(WAIT, "no matches", || async {
        let count = texts(driver, ".find-count").await;
        let empty = texts(driver, ".rows-empty").await;
        (count == vec!["No matches".to_string()] && !empty.is_empty()).then_some(())
    })
    .await;

    browser.quit().await;
}
