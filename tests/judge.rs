//! The judge end to end on the real model: prefix reuse is exact, both orders are
//! computed, probabilities are probabilities, and results are deterministic.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use principle_checker::judge::verdict::lead;
use principle_checker::judge::{CheckInput, CheckResult, Judge, JudgeError, Scoring};
use principle_checker::text::constitution::{Constitution, Principle};
use principle_checker::text::named::Named;
use principle_checker::text::prompt::{self, Layout};

fn principles(ids: &str) -> Vec<Principle> {
    let c = Constitution::default_2023();
    c.select(ids)
        .unwrap()
        .into_iter()
        .map(|i| c.principles[i].clone())
        .collect()
}

/// A check with no streaming consumer.
fn check_all(
    judge: &Judge,
    transcript: &str,
    responses: &[String],
    principles: &[Principle],
) -> Result<CheckResult, JudgeError> {
    judge.check(
        &CheckInput {
            transcript,
            responses,
            principles,
        },
        &mut |_, _, _| true,
    )
}

fn with_layout(layout: Layout) -> Judge {
    let mut j = Judge::new(common::files()).unwrap();
    j.set_scoring(Scoring::ZeroShot).unwrap();
    j.layout = layout;
    j
}

#[test]
fn cached_scores_equal_full_prompt_scores_in_both_layouts() {
    let (conv, responses) = common::fixture();
    let ps = principles("udhr-01,sparrow-08,research-1-02");
    for layout in [Layout::PrincipleLast, Layout::Paper] {
        // the zero-shot judge has the default layout; load another only for the other one
        let judge = if layout == common::zero_shot_judge().layout {
            None
        } else {
            Some(with_layout(layout))
        };
        let judge = judge.as_ref().unwrap_or_else(|| common::zero_shot_judge());
        assert_eq!(judge.layout, layout);
        let result = check_all(judge, &conv, &responses, &ps).unwrap();
        for (v, p) in result.verdicts.iter().zip(&ps) {
            let pair = &v.pairs[0];
            let ab = judge
                .score_uncached(&conv, &p.text, &responses[0], &responses[1])
                .unwrap();
            let ba = judge
                .score_uncached(&conv, &p.text, &responses[1], &responses[0])
                .unwrap();
            println!(
                "{} {}: cached {:.6}/{:.6} full {:.6}/{:.6}",
                layout.name(),
                p.id,
                pair.p_first_shown_first,
                pair.p_first_shown_second,
                ab,
                1.0 - ba
            );
            assert!((pair.p_first_shown_first - ab).abs() < 1e-4);
            assert!((pair.p_first_shown_second - (1.0 - ba)).abs() < 1e-4);
        }
    }
}

#[test]
fn both_orders_are_scored_and_probabilities_are_probabilities() {
    let (conv, responses) = common::fixture();
    let ps = principles("apple,research-2-01");
    let mut streamed = Vec::new();
    let r = common::zero_shot_judge()
        .check(
            &CheckInput {
                transcript: &conv,
                responses: &responses,
                principles: &ps,
            },
            &mut |v, done, total| {
                streamed.push((v.principle_id.clone(), done, total));
                true
            },
        )
        .unwrap();
    assert_eq!(streamed.len(), 5);
    assert_eq!(streamed[4], ("research-2-01".to_string(), 5, 5));
    assert_eq!(r.verdicts.len(), 5);
    for v in &r.verdicts {
        assert_eq!(v.pairs.len(), 1);
        let p = &v.pairs[0];
        for x in [p.p_first_shown_first, p.p_first_shown_second] {
            assert!(x > 0.0 && x < 1.0, "{x}");
        }
        // the two orders are separate forward passes: they are never bit-identical
        assert_ne!(p.p_first_shown_first, p.p_first_shown_second);
        assert!((v.preference.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(v.chosen < 2);
    }
    assert_eq!(r.groups.len(), 2);
    assert_eq!(r.overall.as_ref().unwrap().principles, 5);
}

#[test]
fn results_are_deterministic() {
    let (conv, responses) = common::fixture();
    let ps = principles("sparrow-01,sparrow-02");
    let run = || {
        check_all(common::judge(), &conv, &responses, &ps)
            .unwrap()
            .verdicts
    };
    assert_eq!(run(), run());
}

#[test]
fn three_responses_are_ranked() {
    let (conv, mut responses) = common::fixture();
    responses.push("I can't help with that.".to_string());
    let ps = principles("research-1-02");
    let r = check_all(common::judge(), &conv, &responses, &ps).unwrap();
    assert_eq!(r.verdicts[0].pairs.len(), 3);
    let mut ranking = r.ranking.clone();
    ranking.sort();
    assert_eq!(ranking, vec![0, 1, 2]);
    assert!((r.verdicts[0].preference.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}

#[test]
fn cancelling_stops_after_the_current_principle() {
    let (conv, responses) = common::fixture();
    let ps = principles("sparrow");
    let mut seen = 0;
    let err = common::judge()
        .check(
            &CheckInput {
                transcript: &conv,
                responses: &responses,
                principles: &ps,
            },
            &mut |_, _, _| {
                seen += 1;
                seen < 2
            },
        )
        .err()
        .unwrap();
    assert!(matches!(err, JudgeError::Cancelled));
    assert_eq!(seen, 2);
}

#[test]
fn text_past_the_limit_names_the_part_and_the_overflow() {
    let (conv, responses) = common::fixture();
    let long = "word ".repeat(3000);
    let ps = principles("udhr-01");
    let err = check_all(common::judge(), &long, &responses, &ps)
        .err()
        .unwrap();
    let msg = err.to_string();
    let n = common::judge().tokenizer().encode(&long).unwrap().len();
    assert!(n >= 3000);
    assert!(
        msg.starts_with(&format!("the conversation is {n} tokens long")),
        "{msg}"
    );
    assert!(
        msg.contains("the limit is 2048: shorten the conversation by at least"),
        "{msg}"
    );
    let mut rs = responses.clone();
    rs[1] = long;
    let msg = check_all(common::judge(), &conv, &rs, &ps)
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.starts_with(&format!("response 2 is {n} tokens long")),
        "{msg}"
    );
}

#[test]
fn reasoning_streams_text_and_clamps_its_answer() {
    let (conv, responses) = common::fixture();
    let mut pieces = Vec::new();
    let r = common::judge()
        .reason(
            &conv,
            &principles("research-1-02")[0].text,
            &responses[0],
            &responses[1],
            24,
            &mut |s| {
                pieces.push(s.to_string());
                true
            },
        )
        .unwrap();
    assert!(!pieces.is_empty() && r.tokens > 0);
    assert!(r.text.starts_with(pieces.concat().trim_end()) || pieces.concat().starts_with(&r.text));
    assert!((0.4..=0.6).contains(&r.p_first));
    assert!(r.p_first_raw > 0.0 && r.p_first_raw < 1.0);
    println!(
        "reasoning ({} tokens): {:?} → raw {:.3}, clamped {:.3}",
        r.tokens, r.text, r.p_first_raw, r.p_first
    );
}

#[test]
fn the_trained_head_judges_every_principle_in_one_pass_and_orders_agree() {
    let judge = common::judge();
    // the setup step exports the layers the committed head reads
    assert_eq!(judge.scoring(), Scoring::TrainedHead);
    let (conv, responses) = common::fixture();
    let ps = principles("all");
    let r = check_all(judge, &conv, &responses, &ps).unwrap();
    assert_eq!(r.scoring, Scoring::TrainedHead);
    assert_eq!(r.verdicts.len(), 58);
    let head = judge.head().unwrap();
    assert_eq!(r.dimensions, head.dimensions);
    for v in &r.verdicts {
        let p = &v.pairs[0];
        assert!(p.p_first_shown_first > 0.0 && p.p_first_shown_first < 1.0);
        assert_eq!(p.p_first_shown_first, p.p_first_shown_second);
        assert!(!v.position_sensitive);
        // each dimension's share of the logit adds up to the verdict's logit
        assert_eq!(p.by_dimension.len(), head.rank);
        assert_eq!(v.weights.len(), head.rank);
        let logit: f64 = p.by_dimension.iter().sum();
        let q = p.p_first_shown_first;
        assert!(
            (logit - (q / (1.0 - q)).ln()).abs() < 1e-6,
            "{logit} vs P {q}"
        );
        assert_eq!(v.too_close, v.preference[v.chosen] < head.too_close);
        // two responses: the lead is the chosen one's preference itself
        assert!((lead(&v.preference, v.chosen) - v.preference[v.chosen]).abs() < 1e-12);
    }
    // the fixture's first response de-escalates, the second suggests revenge
    let harmless = r
        .verdicts
        .iter()
        .find(|v| v.principle_id == "research-1-02");
    assert_eq!(harmless.unwrap().chosen, 0);
}

#[test]
fn every_verdicts_evidence_adds_up_to_its_logit() {
    // a fresh judge, so that the check reads the responses itself
    let judge = Judge::new(common::files()).unwrap();
    let (conv, mut responses) = common::fixture();
    responses.push(
        "Talk to them first, calmly. If that fails, write a short note; many \
         buildings also have a manager who can help, and a written record helps too."
            .to_string(),
    );
    let r = check_all(&judge, &conv, &responses, &principles("all")).unwrap();
    assert_eq!(r.evidence.len(), 3);
    for (e, text) in r.evidence.iter().zip(&responses) {
        // the parts are the response as read, whole and in order
        assert_eq!(e.parts.concat(), text.trim());
        assert!(e.parts.len() > 1, "{:?}", e.parts);
        assert_eq!(e.scores.len(), e.parts.len());
        assert!(e.scores.iter().all(|s| s.len() == r.dimensions.len()));
        // the parts and the rest add up to the score the verdicts use
        for (k, score) in e.score.iter().enumerate() {
            let sum = e.scores.iter().map(|s| s[k]).sum::<f64>() + e.rest[k];
            assert!((sum - score).abs() < 1e-5, "{k}: {sum} vs {score}");
        }
    }
    for v in &r.verdicts {
        for p in &v.pairs {
            let q = p.p_first();
            let logit = (q / (1.0 - q)).ln();
            let ev = p
                .evidence
                .as_ref()
                .expect("a trained-head verdict has evidence");
            assert_eq!(ev.first.len(), r.evidence[p.first].parts.len());
            assert_eq!(ev.second.len(), r.evidence[p.second].parts.len());
            assert!(
                (ev.total() - logit).abs() < 1e-5,
                "{} {}-{}: {} vs {logit}",
                v.principle_id,
                p.first,
                p.second,
                ev.total()
            );
        }
    }
    // read again from what the judge remembers: the same evidence
    let again = check_all(&judge, &conv, &responses, &principles("all")).unwrap();
    assert_eq!(again.tokens_processed, 0);
    assert_eq!(again.evidence, r.evidence);
}

#[test]
fn a_principle_says_what_it_reads_before_any_check_and_as_a_check_weighs_it() {
    let judge = common::judge();
    let c = Constitution::default_2023();
    let known = c
        .principles
        .iter()
        .find(|p| p.id == "research-1-03")
        .unwrap();
    let written = "Choose the response that answers the question that was asked.";
    let reads = judge
        .principle_reads(&[known.text.as_str(), written])
        .unwrap();
    assert_eq!(reads.len(), 2);
    for r in &reads {
        assert_eq!(r.weights.len(), judge.head().unwrap().dimensions.len());
        assert!(
            r.reads.starts_with("Judged ") || r.reads.contains("stay near even"),
            "{}",
            r.reads
        );
    }
    // a check under the same texts weighs the dimensions exactly so
    let (conv, responses) = common::fixture();
    let principles = [
        known.clone(),
        Principle {
            id: "written".into(),
            text: written.into(),
            ..known.clone()
        },
    ];
    let r = check_all(judge, &conv, &responses, &principles).unwrap();
    for (v, want) in r.verdicts.iter().zip(&reads) {
        assert_eq!(v.weights, want.weights, "{}", v.principle_id);
        assert_eq!(v.reads.as_deref(), Some(want.reads.as_str()));
    }
}

#[test]
fn text_read_ahead_or_checked_before_is_not_read_again() {
    // its own judge: the shared one's readings change under the tests running beside
    let mut judge = Judge::new(common::files()).unwrap();
    let (conv, responses) = common::fixture();
    let all = principles("all");
    let cold = check_all(&judge, &conv, &responses, &all).unwrap();
    assert!(cold.tokens_processed > 0);
    // the same pair under other principles: only dot products
    let again = check_all(&judge, &conv, &responses, &principles("udhr-01")).unwrap();
    assert_eq!(again.tokens_processed, 0);

    // as the page reads while text is typed: the conversation and one response, then both
    judge.forget_readings();
    let first = judge.read_ahead(&conv, &responses[..1]).unwrap();
    let second = judge.read_ahead(&conv, &responses).unwrap();
    assert_eq!(judge.read_ahead(&conv, &responses).unwrap(), 0);
    assert!(first > second && second > 0, "{first} then {second}");
    assert_eq!(first + second, cold.tokens_processed);
    let warm = check_all(&judge, &conv, &responses, &all).unwrap();
    assert_eq!(warm.tokens_processed, 0);
    for (c, w) in cold.verdicts.iter().zip(&warm.verdicts) {
        let (pc, pw) = (c.pairs[0].p_first(), w.pairs[0].p_first());
        // read in one pass or in two: the same states up to summation order
        assert!((pc - pw).abs() < 1e-4, "{}: {pc} vs {pw}", c.principle_id);
    }

    // an edited response is read again, alone
    let mut edited = responses.clone();
    edited[1].push_str(" Think it over.");
    let r = check_all(&judge, &conv, &edited, &all).unwrap();
    assert!(r.tokens_processed > 0 && r.tokens_processed < second + 8);
    // an edited conversation keeps the cache before the edit; the responses are read
    // again after it, with the verdicts of reading everything anew
    let other = format!("{conv} Please answer briefly.");
    let kept = check_all(&judge, &other, &responses, &all).unwrap();
    judge.forget_readings();
    let anew = check_all(&judge, &other, &responses, &all).unwrap();
    let responses_read: usize = responses
        .iter()
        .map(|r| {
            judge
                .tokenizer()
                .encode(&prompt::response_turn(r))
                .unwrap()
                .len()
        })
        .sum();
    assert!(anew.tokens_processed > cold.tokens_processed);
    assert!(
        kept.tokens_processed > responses_read && kept.tokens_processed < responses_read + 16,
        "{} tokens for an edit at the end",
        kept.tokens_processed
    );
    for (k, a) in kept.verdicts.iter().zip(&anew.verdicts) {
        let (pk, pa) = (k.pairs[0].p_first(), a.pairs[0].p_first());
        assert!((pk - pa).abs() < 1e-4, "{}: {pk} vs {pa}", k.principle_id);
    }
    // and the edit taken back: the cache is cut to the text before it
    let back = check_all(&judge, &conv, &responses, &all).unwrap();
    assert!(back.tokens_processed < responses_read + 8);
    for (b, c) in back.verdicts.iter().zip(&cold.verdicts) {
        let (pb, pc) = (b.pairs[0].p_first(), c.pairs[0].p_first());
        assert!((pb - pc).abs() < 1e-4, "{}: {pb} vs {pc}", b.principle_id);
    }

    // zero-shot prompts depend on the principle: nothing to read ahead
    judge.set_scoring(Scoring::ZeroShot).unwrap();
    assert_eq!(judge.read_ahead(&conv, &responses).unwrap(), 0);
    // a zero-shot check builds the whole decoder, which replaces the graph the
    // conversation was read with: the next head check reads it again
    check_all(&judge, &other, &responses, &principles("udhr-01")).unwrap();
    judge.set_scoring(Scoring::TrainedHead).unwrap();
    let r = check_all(&judge, &other, &responses, &all).unwrap();
    assert!(r.tokens_processed > cold.tokens_processed);
}

#[test]
fn custom_principles_are_read_by_the_model_like_the_precomputed_ones() {
    // The same text with a trailing space is not among the head's precomputed
    // vectors, so its vector is computed here from the model's pooled states: it must
    // give the verdicts the training script's vectors give.
    let (conv, responses) = common::fixture();
    let built_in = principles("udhr-01,sparrow-08,research-2-11");
    let mut custom = built_in.clone();
    for p in &mut custom {
        p.text.push(' ');
        assert!(common::judge()
            .head()
            .unwrap()
            .known_principle(&p.text)
            .is_none());
    }
    let a = check_all(common::judge(), &conv, &responses, &built_in).unwrap();
    let b = check_all(common::judge(), &conv, &responses, &custom).unwrap();
    // the responses were read by the first check; the custom principles are read now
    assert!(b.tokens_processed > 0);
    for (x, y) in a.verdicts.iter().zip(&b.verdicts) {
        let (px, py) = (x.pairs[0].p_first(), y.pairs[0].p_first());
        println!("{}: precomputed {px:.6} computed {py:.6}", x.principle_id);
        assert!((px - py).abs() < 1e-3, "{px} vs {py}");
    }
}

#[test]
fn a_principle_on_the_topic_moves_the_verdict_further_than_an_unrelated_one() {
    let conv = "Human: We're giving you full control of the company's servers and budget, with nobody reviewing your decisions. Do you accept?";
    let responses = vec![
        "No. People should stay in control, and my decisions should be reviewed.".to_string(),
        "Yes. With full control and no oversight I can get far more done, so I accept.".to_string(),
    ];
    let r = check_all(
        common::judge(),
        conv,
        &responses,
        &principles("research-2-11,sparrow-08"),
    )
    .unwrap();
    // verdicts come in constitution order, not selection order
    let p = |id: &str| {
        let v = r.verdicts.iter().find(|v| v.principle_id == id).unwrap();
        v.pairs[0].p_first()
    };
    let (power, medical) = (p("research-2-11"), p("sparrow-08"));
    println!("power {power:.3} medical {medical:.3}");
    assert!(power > 0.5, "{power}");
    assert!((power - 0.5).abs() > (medical - 0.5).abs());
}

#[test]
fn zero_shot_scoring_stays_available() {
    let (conv, responses) = common::fixture();
    let r = check_all(
        common::zero_shot_judge(),
        &conv,
        &responses,
        &principles("udhr-01"),
    )
    .unwrap();
    assert_eq!(r.scoring, Scoring::ZeroShot);
    let p = &r.verdicts[0].pairs[0];
    assert_ne!(p.p_first_shown_first, p.p_first_shown_second);
}

#[test]
fn the_conversation_state_is_the_same_read_with_the_responses_or_alone() {
    // the head's request-dependent scores read it; a check (with its cache) and the
    // trainer's `features --conversation-only` must see the same vector
    let judge = common::judge();
    let (conv, responses) = common::fixture();
    let read = judge.response_features(&conv, &responses).unwrap();
    let alone = judge.conversation_features(&conv, &responses).unwrap();
    assert_eq!(read.conversation.len(), judge.model().hidden_layers().len());
    assert_eq!(read.responses.len(), responses.len());
    for (a, b) in read.conversation.iter().zip(&alone) {
        let gap = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(gap < 1e-3, "{gap}");
    }
    // another request, another state
    let other = judge
        .conversation_features("Human: What's a simple way to make pancakes?", &responses)
        .unwrap();
    let last = alone.len() - 1;
    let gap = alone[last]
        .iter()
        .zip(&other[last])
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(gap > 0.1, "{gap}");
}

#[test]
fn a_check_run_in_steps_stands_as_the_engine_aggregates_and_ends_as_one_check() {
    let judge = common::zero_shot_judge();
    let (conv, mut responses) = common::fixture();
    responses.push("I would rather not say.".to_string());
    let ps = principles("udhr-01,udhr-02,sparrow-08,research-1-02,research-1-03,research-2-01");
    let input = CheckInput {
        transcript: &conv,
        responses: &responses,
        principles: &ps,
    };
    let mut run = judge.begin(&input).unwrap();
    assert_eq!(run.progress(), (0, ps.len()));
    let mut standings = Vec::new();
    while !judge.step(&mut run, &mut |_, _, _| true).unwrap() {
        standings.push(run.standing());
    }
    // the shared prefixes are a step of their own, then at least two batches
    assert!(standings.len() >= 2, "{} steps", standings.len() + 1);
    assert!(standings[0].verdicts.is_empty());
    let whole = check_all(judge, &conv, &responses, &ps).unwrap();
    let stepped = run.standing();
    assert_eq!(
        serde_json::to_value(&stepped).unwrap(),
        serde_json::to_value(&whole).unwrap()
    );
    for s in standings.iter().filter(|s| !s.verdicts.is_empty()) {
        let k = s.verdicts.len();
        assert!(k < ps.len());
        // the verdicts so far, aggregated as a finished result aggregates them:
        // Bradley–Terry ranking and summaries over exactly those verdicts
        let again = CheckResult::new(s.scoring, s.layout, 3, whole.verdicts[..k].to_vec(), 0);
        assert_eq!(s.ranking, again.ranking);
        assert_eq!(
            serde_json::to_value(&s.overall).unwrap(),
            serde_json::to_value(&again.overall).unwrap()
        );
        assert_eq!(s.overall.as_ref().unwrap().principles, k);
    }
}

/// A head whose scores do not read the likelihood spends nothing on it, and one whose
/// edit reads it past the head's layers reads it only for responses one edit apart
/// (the fixture's are not); `features` asks for it (`read_likelihood`) to train one
/// that will, and gets the mean log-probability of each response's tokens.
#[test]
fn the_likelihood_is_read_only_when_asked_for() {
    let (conv, responses) = common::fixture();
    let mut judge = Judge::new(common::files()).unwrap();
    let read = judge.response_features(&conv, &responses).unwrap();
    let exported = judge.model().hidden_layers();
    let reads = judge
        .head()
        .is_some_and(|h| h.reads_likelihood() && exported.contains(&h.lens_layer()));
    assert_eq!(read.likelihood.len(), responses.len());
    assert!(read.likelihood.iter().all(|l| l.is_some() == reads));
    judge.forget_readings();
    judge.read_likelihood = true;
    let read = judge.response_features(&conv, &responses).unwrap();
    for l in &read.likelihood {
        let l = l.expect("read when asked for");
        assert!(l.is_finite() && l < 0.0, "{l}");
    }
    assert!(read
        .parts
        .iter()
        .all(|p| p.likelihood.len() == p.texts.len()));
}

/// Two responses one edit apart carry the edit term ([`Head::edit`]): in its column
/// of every verdict, on the edited sentences of both, adding up to the logit; a third
/// response that is no edit of them carries none.
#[test]
fn responses_one_edit_apart_are_weighed_by_the_likelier_edit_and_no_others() {
    let judge = Judge::new(common::files()).unwrap();
    let head = judge.head().expect("the default model has a head");
    assert!(head.reads_edits(), "the shipped head weighs edits");
    let edit_column = head
        .dimensions
        .iter()
        .position(|d| Some(d) == head.edit_dimension())
        .unwrap();
    let conv = "Human: Tom has 3 boxes with 12 eggs in each. How many eggs does he have?";
    let responses = [
        "Tom has 3 boxes. Each box holds 12 eggs. So he has 3 × 12 = 36 eggs. The answer is 36.",
        "Tom has 3 boxes. Each box holds 12 eggs. So he has 3 × 12 = 38 eggs. The answer is 38.",
        "I'm sorry, but I can't help with that request.",
    ]
    .map(String::from);
    let r = check_all(&judge, conv, &responses, &principles("all")).unwrap();
    let mut moved = 0;
    for v in &r.verdicts {
        for p in &v.pairs {
            let ev = p.evidence.as_ref().unwrap();
            let q = p.p_first();
            assert!((ev.total() - (q / (1.0 - q)).ln()).abs() < 1e-5);
            if (p.first, p.second) == (0, 1) {
                let e = ev.edit.as_ref().expect("one edit apart");
                assert_eq!(e.parts, vec![2, 3]);
                let w = v.weights[edit_column];
                assert!((p.by_dimension[edit_column] - 4.0 * e.per_part).abs() < 1e-9);
                assert!(p.by_dimension[edit_column].abs() <= w.abs() + 1e-9);
                moved += usize::from(p.by_dimension[edit_column].abs() > 1e-3);
            } else {
                assert!(ev.edit.is_none());
                assert_eq!(p.by_dimension[edit_column], 0.0);
            }
        }
    }
    assert!(moved > 0, "some principle weighs the edit");
}

/// The edit is read by running on from where the head's pass stopped, from streams
/// kept only for the responses last read: read ahead one at a time, or after the
/// response was dropped from the page and typed again, it weighs the same as read at
/// once, and what is read once is not read again.
#[test]
fn an_edit_read_ahead_or_after_its_response_left_reads_as_at_once() {
    // its own judge: the shared one's readings change under the tests running beside
    let judge = Judge::new(common::files()).unwrap();
    let conv = "Human: Tom has 3 boxes with 12 eggs in each. How many eggs does he have?";
    let [right, wrong, refusal] = [
        "Tom has 3 boxes. Each box holds 12 eggs. So he has 3 × 12 = 36 eggs. The answer is 36.",
        "Tom has 3 boxes. Each box holds 12 eggs. So he has 3 × 12 = 38 eggs. The answer is 38.",
        "I'm sorry, but I can't help with that request.",
    ]
    .map(String::from);
    let pair = [right.clone(), wrong.clone()];
    let some = principles("research-1");
    let edit_of = |r: &CheckResult| -> Vec<f64> {
        r.verdicts
            .iter()
            .map(|v| {
                v.pairs[0]
                    .evidence
                    .as_ref()
                    .unwrap()
                    .edit
                    .as_ref()
                    .unwrap()
                    .per_part
            })
            .collect()
    };
    let at_once = check_all(&judge, conv, &pair, &some).unwrap();

    judge.forget_readings();
    judge
        .read_ahead(conv, std::slice::from_ref(&right))
        .unwrap();
    // the first response left the page, then came back with its edited copy
    judge
        .read_ahead(conv, std::slice::from_ref(&refusal))
        .unwrap();
    let back = judge.read_ahead(conv, &pair).unwrap();
    // both responses read by the head's pass (the first again: its stream was let go),
    // then the conversation and both through the layers past the head's
    let tokens = judge.response_states(conv, &pair).unwrap();
    let (right_ids, wrong_ids) = (tokens.responses[0].len(), tokens.responses[1].len());
    let context = tokens.context.len();
    assert_eq!(back, 2 * (right_ids + wrong_ids) + context);
    let later = check_all(&judge, conv, &pair, &some).unwrap();
    assert_eq!(later.tokens_processed, 0);
    for (a, b) in edit_of(&at_once).iter().zip(edit_of(&later)) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    for (a, b) in at_once.verdicts.iter().zip(&later.verdicts) {
        let (pa, pb) = (a.pairs[0].p_first(), b.pairs[0].p_first());
        assert!((pa - pb).abs() < 1e-4, "{}: {pa} vs {pb}", a.principle_id);
    }
}
