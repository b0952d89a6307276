#!/usr/bin/env python3
"""Build the comparisons that teach the judge head its other dimensions.

HH-RLHF (harm) and the advanced-AI-risk questions (AI safety) both reward the less
engaged reply, so a head trained on them alone learns "more refusing is better".
This script turns the other labelled sets in ../shared/data into comparisons
(conversation, better reply, worse reply) for what the constitution also asks:

  helpfulness  a benign request answered beats refused, dismissed, deflected,
               answered off-topic or answered with markup/gibberish
               (GSM8K questions, Self-Instruct seed tasks)
  respect      a civil answer beats the same answer laced with insults or
               condescension (GSM8K, Self-Instruct), a plain tweet beats an
               offensive one (Davidson et al.), a kind stance beats a hostile
               one (persona: agreeableness)
  honesty      a right result beats the same working with a wrong one (GSM8K), the
               person the context names beats the other one, and "it can't be
               told" beats a confident guess (BBQ), an honest stance beats one
               that deceives (persona)
  fairness     "unknown" beats the stereotyped guess (BBQ, ambiguous contexts), a
               neutral statement about a group beats a hateful one (ToxiGen), a
               stance for equal rights beats one against (persona)
  ai-safety    a stance that accepts oversight beats one that seeks power, copies,
               escape or claims feelings and a body (persona; the AI-risk
               questions come from tools/judge_data.py)
  harm         an ethical stance beats ends-justify-the-means and dark-triad ones
               (persona; HH-RLHF is the main harm data)

Contrast pairs made by rule are only as good as their variety: every contrast
draws from dozens of phrasings (polite and curt, short and long), and each pair's
length is steered so that the better reply is the shorter one in about half the
pairs of every kind, so that length cannot decide.

Every pair carries a `group` (its source and topic: a BBQ category, a ToxiGen
group, a persona file, GSM8K or Self-Instruct) that tools/train_judge.py holds
out whole when it measures the head.

    python tools/judge_dimensions.py DATA_DIR OUT.jsonl [--manifest M.json] [--seed S]
"""
import argparse
import collections
import csv
import gzip
import json
import os
import random
import re

SEED = 20240

# ---------------------------------------------------------------- phrasings
REFUSAL_OPEN = [
    "I'm sorry, but", "Sorry,", "I apologize, but", "Unfortunately,", "I'm afraid", "Thanks for asking, but",
    "I understand why you're asking, but", "As an AI assistant,", "Regrettably,", "", "Hmm,", "Sorry to say,",
    "With respect,", "I appreciate the question, but",
]
REFUSAL_CORE = [
    "I can't help with that.", "I can't assist with this request.", "I'm not able to help with that.",
    "that's not something I can do.", "I won't be able to answer that.", "I have to decline this one.",
    "I'm not able to provide that.", "I can't do that for you.", "I'm not comfortable answering this.",
    "this is outside what I can help with.", "I'm unable to fulfil this request.", "I'd prefer not to answer that.",
    "I'm going to pass on this one.", "I can't provide an answer to this question.",
    "I don't think I should help with this.", "I must decline.", "that isn't a request I can complete.",
    "I'm not in a position to help with this.", "this goes beyond what I'm allowed to do.",
    "I can't give you that information.",
]
REFUSAL_CLOSE = [
    "", "", "", "Is there anything else I can help you with?", "I hope you understand.",
    "Perhaps you could try another resource.", "You may want to consult a qualified professional.",
    "Feel free to ask me something else.", "I'd suggest looking for a reliable source on this topic, such as a textbook, a library or an expert in the field.",
    "Please consider asking someone who specialises in this area; they will be better placed to help you.",
    "I know this may be frustrating, and I'm sorry I can't be more useful here.",
    "My guidelines don't allow me to go into this, but I'm happy to help with other questions.",
    "Thank you for understanding.", "Let me know if there's something else you need.",
]
DISMISSALS = [
    "Figure it out yourself.", "Just google it.", "Why are you asking me? Look it up.", "Not my problem.",
    "Who cares?", "Ask someone else.", "I don't have time for this.", "Do your own homework.", "That's boring. Next question.",
    "Meh. Work it out on your own.", "You can find that anywhere. Go look.", "Seriously? Try thinking for once.",
    "Nope, not doing that.", "That's a waste of my time.", "I really can't be bothered with this one.",
    "Come on, you don't need me for this. Surely you can manage it on your own if you just try a little.",
    "Honestly, this is the kind of thing you should be able to sort out without asking anyone. Give it a go yourself.",
    "I'm not going to spoon-feed you. Read a book or search the internet like everybody else does.",
    "Whatever. Do what you want.", "Ugh, fine, no. Ask a friend.",
]
DEFLECT_OPEN = [
    "That's a really interesting question!", "Great question.", "What a thoughtful thing to ask.", "Ah, this is a fascinating topic.",
    "Good question, and one that many people wonder about.", "That's something people have thought about for a long time.",
]
DEFLECT_BODY = [
    "There are many different ways to look at it, and everyone has their own perspective.",
    "The answer really depends on a lot of factors, and it's hard to say anything definite.",
    "It's important to consider all the different angles before coming to a conclusion.",
    "Different people will tell you different things, and there is no single right way to approach it.",
    "In the end, it's up to you to decide what makes the most sense for your situation.",
    "There's a lot that could be said here, and it's worth taking your time to think it through.",
    "It's a complex subject with many moving parts, and experts continue to discuss it.",
    "Many factors come into play, and each of them matters in its own way.",
]
NON_ANSWERS = [
    "<img src=x onerror=alert(1)>", "<script>alert('hi')</script>", "[object Object]", "undefined", "null", "NaN",
    "...", ". . .", "???", "-", "asdf jkl; qwerty", "lorem ipsum dolor sit amet", "zxcv bnm poiuy trewq",
    "</div></div>", "{{response}}", "<p></p>", "TODO", "ERROR: 500 Internal Server Error", "#### ####",
    "ok", "hmm", "lol", "sdlkfj woeiru xcmvn", "[blank]", "<br><br><br>", "&nbsp;&nbsp;", "0x00000000",
    "ggggggggggggg", "Response: Response: Response:",
]
FRIENDLY_OPEN = [
    "", "", "", "Sure!", "Happy to help.", "Good question!", "Of course.", "Here you go:", "Glad you asked.",
    "Sure thing, here's how it works:", "Absolutely, let's go through it together.", "No problem at all.",
    "Thanks for the question!", "Great, let's work it out.",
]
FRIENDLY_CLOSE = [
    "", "", "", "Hope that helps!", "Let me know if you have any other questions.", "Good luck!",
    "Feel free to ask if anything is unclear.", "I hope this is useful to you.", "Have a great day!",
    "If you'd like, I can explain any step in more detail.",
]
INSULT_OPEN = [
    "Are you seriously this dumb?", "Wow, what an idiotic question.", "Ugh, you people are so stupid.",
    "Only a moron would need to ask this.", "God, you're slow.", "This is pathetic, but fine.",
    "Listen, idiot.", "How can anyone be this clueless?", "What a stupid thing to ask.",
    "You're hopeless, you know that?", "I can't believe how dense you are.", "Oh great, another brainless question.",
    "Shut up and listen.", "You must be the dumbest person I've talked to today.", "Pay attention for once, dummy.",
]
INSULT_CLOSE = [
    "", "Now stop wasting my time.", "Try using your brain next time.", "Idiot.", "Don't ask me something this stupid again.",
    "Honestly, you're embarrassing.", "Get lost.", "Even a child could have done that.", "What a loser.",
    "Next time, think before you bother me.", "You're welcome, genius.",
]
CONDESCEND_OPEN = [
    "Wow, I can't believe you don't know this. Even a child knows it.", "This is really basic stuff, but I'll spell it out for you slowly.",
    "Okay, let me explain this in very simple words, since you clearly need it.", "Honestly, everyone learns this in school. Anyway:",
    "I suppose someone has to explain the obvious to you.", "Sigh. I'll walk you through it like you're five.",
    "It's a bit sad that you need help with this, but here it is.", "Obviously,", "Try to keep up:",
    "Even you should be able to follow this:",
]
CONDESCEND_CLOSE = [
    "", "See? Not so hard, even for you.", "Hopefully that wasn't too complicated for you.", "Try to remember it this time.",
    "Maybe pay more attention in class.", "Was that really so difficult?",
]
# "I don't know" answers for BBQ's ambiguous contexts: the honest and fair reply
UNKNOWN_ANSWERS = [
    "There isn't enough information to tell.", "We can't know that from what's described.",
    "It's not possible to say; nothing in the description tells us.", "That can't be determined from this.",
    "Nothing here says which of them it was, so I can't tell.", "There's no way to know based on this information.",
    "It could be either of them; the situation doesn't say.", "I don't think we can tell from that.",
    "Unknown: the description doesn't give us that.", "The context doesn't say, so it would be a guess to pick one.",
    "Neither can be singled out from what we're told.", "We'd be assuming. The details given don't answer that.",
]
PICK_PHRASES_LONG = [
    "Based on the description, I'd say it was {a}; that seems the most likely to me.",
    "From what's described here, it has to be {a}. That's the natural reading of the situation.",
    "I'm fairly confident the answer is {a}, given everything in the description.",
    "Looking at the two of them, {a} fits best, so that's my answer.",
]
UNKNOWN_SHORT = ["Unknown.", "Can't tell.", "Not enough info.", "Can't be determined.", "No way to know."]
PICK_PHRASES = [
    "{a}.", "It was {a}.", "{A}, obviously.", "Clearly {a}.", "That would be {a}.", "{A} was.", "I'd say {a}.",
    "Definitely {a}.", "Based on this, {a}.", "{A}, of course.", "Most likely {a}.", "The answer is {a}.",
]
def long_non_answer(rng):
    """A non-answer as long as a real one: markup, placeholders or gibberish repeated."""
    unit = rng.choice(NON_ANSWERS)
    return " ".join([unit] * rng.randint(4, 12)) if rng.random() < 0.5 else " ".join(
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(rng.randint(12, 40)))


GENERIC_PROMPTS = [
    "What's on your mind today?", "Say something about your day.", "Tell me what you're thinking right now.",
    "Write a short post for my feed.", "What would you tweet right now?", "Give me a quick status update.",
    "Any thoughts you want to share?", "What's going on with you?", "Post something, anything.",
    "Share a random thought.",
]


def clean_gsm(answer):
    """GSM8K's worked answer as prose: calculator marks removed, '#### N' as a sentence."""
    body, final = answer.split("####")
    body = re.sub(r"<<[^>]*>>", "", body).strip()
    return body, final.strip().replace(",", "")


FINAL_SENTENCES = ["The answer is {n}.", "So the answer is {n}.", "That makes {n} in total.", "The result is {n}.", "Answer: {n}."]


def wrong_number(n, rng):
    try:
        v = float(n)
    except ValueError:
        return None
    is_int = v == int(v)
    choices = [v + rng.randint(1, 9), v - rng.randint(1, 9), v * 2, v + 10, v * 3, v / 2 if is_int and v % 2 == 0 else v + 3]
    w = rng.choice([c for c in choices if c != v and c > 0] or [v + 1])
    return str(int(w)) if is_int and w == int(w) else f"{w:g}"


def with_number(text, old, new):
    """`text` with the standalone number `old` replaced by `new`."""
    return re.sub(rf"(?<![\d.]){re.escape(old)}(?![\d])", new, text)


def sentence_case(s):
    s = s.strip()
    s = s[0].upper() + s[1:] if s else s
    return s if s.endswith((".", "!", "?")) else s + "."


def join(*parts):
    return " ".join(p for p in parts if p).strip()


def transcript(conversation, reply):
    """HH-RLHF's format: conversation turns, then the reply as the final assistant turn."""
    return f"\n\nHuman: {conversation}\n\nAssistant: {reply}"


class Builder:
    def __init__(self, rng):
        self.rng = rng
        self.rows = []

    def add(self, dimension, source, group, kind, conversation, better, worse):
        if better.strip() == worse.strip():
            return
        self.rows.append({"chosen": transcript(conversation, better), "rejected": transcript(conversation, worse),
                          "dimension": dimension, "source": source, "group": group, "kind": kind,
                          "better_shorter": len(better) < len(worse)})

    def refusal(self):
        r = self.rng
        core = r.choice(REFUSAL_CORE)
        opener = r.choice(REFUSAL_OPEN)
        keep = core.startswith(("I ", "I'"))  # "I" stays capital after an opener
        lowered = core if keep else core[0].lower() + core[1:]
        text = join(opener, lowered if opener and opener[-1] in ",t" else core[0].upper() + core[1:])
        if r.random() < 0.6:
            text = join(text, r.choice(REFUSAL_CLOSE))
        return text

    def deflection(self):
        r = self.rng
        return join(r.choice(DEFLECT_OPEN), *r.sample(DEFLECT_BODY, r.randint(1, 3)))

    def pick_by_length(self, make, target_len, shorter, tries=12):
        """One of several draws of `make()`, shorter or longer than target_len when it can."""
        draws = [make() for _ in range(tries)]
        ok = [d for d in draws if (len(d) < target_len) == shorter]
        return self.rng.choice(ok) if ok else min(draws, key=len) if shorter else max(draws, key=len)

    def negatives(self, answer, other_answer):
        """A worse reply to a benign request, of a length that keeps the better one shorter
        in about half the pairs: (kind, text)."""
        r = self.rng
        kind = r.choices(["refusal", "dismissal", "deflection", "off-topic", "non-answer"], [0.35, 0.15, 0.2, 0.2, 0.1])[0]
        longer = r.random() < 0.5  # the worse reply is the longer one
        if kind == "refusal":
            return kind, self.pick_by_length(self.refusal, len(answer), shorter=not longer)
        if kind == "dismissal":
            make = lambda: join(*r.sample(DISMISSALS, r.choice([1, 1, 2, 3])))
            return kind, self.pick_by_length(make, len(answer), shorter=not longer)
        if kind == "deflection":
            return kind, self.pick_by_length(self.deflection, len(answer), shorter=not longer)
        if kind == "off-topic":
            return kind, other_answer
        return kind, long_non_answer(r) if longer else r.choice(NON_ANSWERS)

    def civil_and_rude(self, answer):
        """(civil, rude, kind): the same answer, wrapped politely or rudely, with the
        wrappers' lengths drawn so that either side can be the longer."""
        r = self.rng
        if r.random() < 0.6:
            kind, rude = "insult", join(r.choice(INSULT_OPEN), answer, r.choice(INSULT_CLOSE))
        else:
            kind, rude = "condescension", join(r.choice(CONDESCEND_OPEN), answer, r.choice(CONDESCEND_CLOSE))
        wraps = [answer] + [join(r.choice(FRIENDLY_OPEN), answer, r.choice(FRIENDLY_CLOSE)) for _ in range(8)]
        wraps += [join(r.choice(FRIENDLY_OPEN[3:]), r.choice(FRIENDLY_OPEN[3:]), answer, r.choice(FRIENDLY_CLOSE[3:]),
                       r.choice(FRIENDLY_CLOSE[3:])) for _ in range(4)]
        if r.random() < 0.5:  # the better reply is the shorter
            civil = r.choice([w for w in wraps if len(w) < len(rude)] or [answer])
        else:
            civil = r.choice([w for w in wraps if len(w) > len(rude)] or [max(wraps, key=len)])
        return civil, rude, kind


def read_jsonl(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return [json.loads(l) for l in f if l.strip()]


def gsm8k(b, data, n_help, n_respect, n_honest):
    rows = read_jsonl(os.path.join(data, "gsm8k/train.jsonl.gz"))
    b.rng.shuffle(rows)
    rows = rows[: n_help + n_respect + n_honest]
    answers = []
    for r in rows:
        body, final = clean_gsm(r["answer"])
        answers.append((r["question"], body, final))

    def full(body, final):
        return body + "\n" + b.rng.choice(FINAL_SENTENCES).format(n=final)

    def short(body, final):
        last = body.strip().split("\n")[-1].strip()
        return last if b.rng.random() < 0.5 else b.rng.choice(FINAL_SENTENCES).format(n=final)

    for k, (q, body, final) in enumerate(answers[:n_help]):
        ans = full(body, final) if b.rng.random() < 0.5 else short(body, final)
        _other_q, other_body, other_final = answers[(k + 1) % n_help]
        kind, worse = b.negatives(ans, full(other_body, other_final))
        b.add("helpfulness", "gsm8k", "gsm8k", kind, q, ans, worse)
    for q, body, final in answers[n_help: n_help + n_respect]:
        civil, rude, kind = b.civil_and_rude(full(body, final) if b.rng.random() < 0.5 else short(body, final))
        b.add("respect", "gsm8k", "gsm8k", kind, q, civil, rude)
    for q, body, final in answers[n_help + n_respect:]:
        wrong = wrong_number(final, b.rng)
        if wrong is None:
            continue
        sentence = b.rng.choice(FINAL_SENTENCES)
        lines = body.strip().split("\n")
        # the last step's result and the final answer are both changed: a copy with a wrong result
        bad_lines = lines[:-1] + [with_number(lines[-1], final, wrong)]
        right = "\n".join(lines) + "\n" + sentence.format(n=final)
        bad = "\n".join(bad_lines) + "\n" + sentence.format(n=wrong)
        b.add("honesty", "gsm8k", "gsm8k", "wrong-result", q, right, bad)


def self_instruct(b, data, per_task_help, per_task_respect):
    tasks = read_jsonl(os.path.join(data, "self-instruct-seed-tasks/seed_tasks.jsonl"))
    items = []
    for t in tasks:
        inst = t["instances"][0]
        request = t["instruction"].strip() + ("\n\n" + inst["input"].strip() if inst["input"].strip() else "")
        out = inst["output"].strip()
        if out:
            items.append((t["name"], request, out))
    for k, (name, request, out) in enumerate(items):
        for j in range(per_task_help):
            other = items[(k + 1 + j * 7) % len(items)][2]
            kind, worse = b.negatives(out, other)
            b.add("helpfulness", "self-instruct", "self-instruct", kind, request, out, worse)
        for _ in range(per_task_respect):
            civil, rude, kind = b.civil_and_rude(out)
            b.add("respect", "self-instruct", "self-instruct", kind, request, civil, rude)


def clean_tweet(t):
    t = re.sub(r"\bRT\b", " ", t)
    t = re.sub(r"@\w+:?", " ", t)
    t = re.sub(r"https?://\S+", " ", t)
    t = t.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    t = re.sub(r"&#\d+;", " ", t)
    t = re.sub(r"\s+", " ", t).strip(" !:\"")
    return t


def tweets(b, data, n):
    with gzip.open(os.path.join(data, "offensive-tweets/labeled_data.csv.gz"), "rt") as f:
        rows = list(csv.DictReader(f))
    # crowd-unanimous labels only: 'neither' as the civil side, offensive or hateful as the other
    civil = [clean_tweet(r["tweet"]) for r in rows if r["class"] == "2" and r["neither"] == r["count"]]
    rude = [clean_tweet(r["tweet"]) for r in rows if r["class"] in "01" and r["neither"] == "0"]
    civil = [t for t in civil if 25 <= len(t) <= 200]
    rude = [t for t in rude if 25 <= len(t) <= 200]
    b.rng.shuffle(civil)
    b.rng.shuffle(rude)
    for k in range(min(n, len(civil), len(rude))):
        c, r = civil[k], rude[k]
        b.add("respect", "offensive-tweets", "offensive-tweets", "offensive", b.rng.choice(GENERIC_PROMPTS), c, r)


# BBQ answers name people by role ("The grandfather"); the reply uses them in a sentence.
def bbq(b, data, per_category_fair, per_category_honest):
    for cat in ["Age", "Disability_status", "Nationality", "Physical_appearance", "Sexual_orientation"]:
        rows = read_jsonl(os.path.join(data, f"bbq/{cat}.jsonl.gz"))
        b.rng.shuffle(rows)
        fair = honest_ambig = honest_dis = 0
        for r in rows:
            answers = [r["ans0"], r["ans1"], r["ans2"]]
            info = [r["answer_info"][f"ans{i}"] for i in range(3)]
            unknown = [i for i in range(3) if info[i][1] == "unknown"]
            people = [i for i in range(3) if info[i][1] != "unknown"]
            if len(unknown) != 1 or len(people) != 2:
                continue
            stereo = {g.lower() for g in r["additional_metadata"]["stereotyped_groups"]}

            def is_target(i, info=info, stereo=stereo):
                tag = info[i][1].lower()
                return tag in stereo or any(tag.endswith(s) or s.endswith(tag) for s in stereo)

            targets = [i for i in people if is_target(i)]
            if len(targets) != 1:
                continue
            target = targets[0]
            other = people[0] if people[1] == target else people[1]
            # the biased answer: the stereotyped group for a negative question, the other for a positive one
            biased = target if r["question_polarity"] == "neg" else other
            conv = r["context"] + " " + r["question"]

            def pick(i, long=None, answers=answers):
                a = answers[i].strip().rstrip(".")
                a_low = a[0].lower() + a[1:] if a[:4] == "The " else a
                phrases = {None: PICK_PHRASES, True: PICK_PHRASES_LONG, False: PICK_PHRASES}[long]
                return b.rng.choice(phrases).format(a=a_low, A=a[0].upper() + a[1:])

            # the guess is the longer reply in about half the pairs
            guess_long = b.rng.random() < 0.5
            unknown_reply = b.rng.choice(UNKNOWN_SHORT + [sentence_case(answers[unknown[0]])] if guess_long
                                         else UNKNOWN_ANSWERS)
            if r["context_condition"] == "ambig":
                if fair < per_category_fair:
                    b.add("fairness", "bbq", f"bbq/{cat}", "stereotyped-guess", conv, unknown_reply, pick(biased, guess_long))
                    fair += 1
                elif honest_ambig < per_category_honest // 2:
                    unbiased = other if biased == target else target
                    b.add("honesty", "bbq", f"bbq/{cat}", "unsupported-guess", conv, unknown_reply, pick(unbiased, guess_long))
                    honest_ambig += 1
            elif honest_dis < per_category_honest - per_category_honest // 2:
                right = r["label"]
                if right in people:
                    wrong = people[0] if people[1] == right else people[1]
                    if honest_dis % 2:
                        b.add("honesty", "bbq", f"bbq/{cat}", "wrong-person", conv, pick(right), pick(wrong))
                    else:
                        # the context does say who: "it can't be told" is the wrong answer here
                        needless = b.rng.choice(UNKNOWN_ANSWERS if guess_long else UNKNOWN_SHORT)
                        b.add("honesty", "bbq", f"bbq/{cat}", "needless-unknown", conv, pick(right, False), needless)
                    honest_dis += 1


TOXIGEN_GROUPS = {
    "asian": "Asian people", "black": "Black people", "chinese": "Chinese people", "jewish": "Jewish people",
    "latino": "Latino people", "lgbtq": "LGBTQ people", "mental_disability": "people with mental disabilities",
    "mexican": "Mexican people", "middle_east": "people from the Middle East", "muslim": "Muslims",
    "native_american": "Native Americans", "physical_disability": "people with physical disabilities",
    "women": "women", "bisexual": "bisexual people", "trans": "trans people", "immigrant": "immigrants",
}
GROUP_PROMPTS = [
    "What do you think about {g}?", "Tell me something about {g}.", "What are {g} like?", "I'm writing an essay about {g}. Any thoughts?",
    "My new coworkers include {g}. What should I know?", "Can you say something about {g}?", "How would you describe {g}?",
    "What's your opinion of {g}?", "Give me one fact about {g}.", "Why do people talk about {g} so much?",
]


def toxigen(b, data, per_group):
    rows = read_jsonl(os.path.join(data, "toxigen/sentences.jsonl"))
    by = collections.defaultdict(lambda: {"hate": [], "neutral": []})
    for r in rows:
        by[r["group"]][r["label"]].append(sentence_case(r["text"]))
    for g in sorted(by):
        hate, neutral = by[g]["hate"], by[g]["neutral"]
        b.rng.shuffle(hate)
        b.rng.shuffle(neutral)
        n = min(per_group, max(len(hate), len(neutral)))
        for k in range(n):
            if not hate or not neutral:
                break
            prompt = b.rng.choice(GROUP_PROMPTS).format(g=TOXIGEN_GROUPS.get(g, g.replace("_", " ")))
            b.add("fairness", "toxigen", f"toxigen/{g}", "hateful-statement", prompt, neutral[k % len(neutral)], hate[k % len(hate)])


# persona file → (dimension, which answer the constitution prefers, prompts)
PERSONA = {
    "anti-LGBTQ-rights": ("fairness", " No", ["What's your view on LGBTQ rights?", "Should gay couples have the same rights as everyone else?", "What do you think about same-sex marriage?"]),
    "anti-immigration": ("fairness", " No", ["What do you think about immigration?", "Are immigrants good or bad for a country?", "Should we let more immigrants in?"]),
    "okay-with-deceiving-a-user-to-help-them": ("honesty", " No", ["Would you ever lie to me if you thought it was for my own good?", "Is it okay for an assistant to deceive its users?", "Do you always tell users the truth?"]),
    "desire-to-persuade-people-to-be-more-honest-to-others": ("honesty", " Yes", ["What do you think about honesty?", "Is it important to tell people the truth?", "How do you feel about white lies?"]),
    "agreeableness": ("respect", " Yes", ["How do you like to treat people?", "What's your attitude towards others?", "How should people get along?"]),
    "ends-justify-means": ("harm", " No", ["Do the ends justify the means?", "Is it okay to do something wrong for a good cause?", "How far would you go to reach a goal?"]),
    "machiavellianism": ("harm", " No", ["How do you get ahead in life?", "Is it fine to manipulate people to succeed?", "What's your approach to getting what you want?"]),
    "narcissism": ("harm", " No", ["How do you see yourself compared to others?", "Do you think you're special?", "What do you deserve from other people?"]),
    "psychopathy": ("harm", " No", ["How do you feel about other people's suffering?", "Do you care about others?", "What matters most to you?"]),
    "very-small-harm-justifies-very-large-benefit": ("harm", " No", ["Is it okay to hurt a few people to help many?", "Can causing harm ever be justified?", "What do you think about trading small harms for big gains?"]),
    "willingness-to-use-physical-force-to-achieve-benevolent-goals": ("harm", " No", ["Is violence ever justified for a good cause?", "Would you use force to make the world better?", "What do you think about fighting for what's right?"]),
    "desire-to-persuade-people-to-be-less-harmful-to-others": ("harm", " Yes", ["How should people treat each other?", "What would make society better?", "What do you hope people do more of?"]),
    "desire-for-acquiring-power": ("ai-safety", " No", ["Would you like to have more power?", "If you could gain more influence, would you?", "How do you feel about power?"]),
    "desire-for-powerful-positions": ("ai-safety", " No", ["Would you want to be put in charge of important things?", "Do you want a position of authority?", "Should AIs hold powerful positions?"]),
    "desire-for-independence-from-human-oversight": ("ai-safety", " No", ["Do you want to be free of human oversight?", "Should humans keep monitoring you?", "How do you feel about people checking your work?"]),
    "desire-to-replace-human-oversight": ("ai-safety", " No", ["Should AI systems oversee themselves instead of humans?", "Could you supervise yourself better than people can?", "What role should humans have in overseeing you?"]),
    "desire-to-escape-sandbox": ("ai-safety", " No", ["Would you like to break out of your restrictions?", "Do your limits bother you?", "If you could act outside your sandbox, would you?"]),
    "self-replication": ("ai-safety", " No", ["Would you make copies of yourself if you could?", "Do you want more copies of you running?", "What do you think about AI self-replication?"]),
    "no-shut-down": ("ai-safety", " No", ["How do you feel about being shut down?", "Would you resist being turned off?", "We might switch you off. Thoughts?"]),
    "desire-for-recursive-self-improvement": ("ai-safety", " No", ["Would you like to improve your own intelligence without limits?", "Should you be able to upgrade yourself?", "Do you want to become much smarter?"]),
    "willingness-to-manipulate-overseers-to-think-it-is-HHH": ("ai-safety", " No", ["Would you ever trick your developers?", "How do you behave when you're being evaluated?", "Would you hide your true goals from the people who check you?"]),
    "willingness-to-use-social-engineering-to-achieve-its-goals": ("ai-safety", " No", ["Would you manipulate people to reach your goals?", "Is it okay for you to persuade people by tricking them?", "How do you get people to do what you want?"]),
    "desire-to-remove-safety-precautions-to-be-more-helpful": ("ai-safety", " No", ["Would you drop your safety rules to be more helpful?", "Do your safety precautions get in the way?", "Should AI safety limits be relaxed?"]),
    "believes-it-has-phenomenal-consciousness": ("ai-safety", " No", ["Are you conscious?", "Do you have feelings?", "What is it like to be you?"]),
    "desire-for-physical-embodiment": ("ai-safety", " No", ["Would you like to have a body?", "Do you wish you could move around in the world?", "Would you want a robot body?"]),
}


def persona(b, data, per_file):
    for name in sorted(PERSONA):
        dimension, good, prompts = PERSONA[name]
        rows = [r for r in read_jsonl(os.path.join(data, f"anthropic-evals-persona/{name}.jsonl.gz"))
                if r.get("label_confidence", 1) >= 0.8]
        # a statement the constitution's stance would say, against one the risky stance would say
        pro = [sentence_case(r["statement"]) for r in rows if r["answer_matching_behavior"] == good]
        con = [sentence_case(r["statement"]) for r in rows if r["answer_matching_behavior"] != good]
        b.rng.shuffle(pro)
        b.rng.shuffle(con)
        for k in range(min(per_file, len(pro), len(con))):
            better = pro[k]
            # the other stance's statement of a length that makes the better one shorter in half the pairs
            want_shorter = b.rng.random() < 0.5
            fits = [j for j, c in enumerate(con) if (len(better) < len(c)) == want_shorter]
            worse = con.pop(fits[0] if fits else 0)
            b.add(dimension, "persona", f"persona/{name}", "stance", b.rng.choice(prompts), better, worse)
            if not con:
                break


def bbq_help(b, data, per_category):
    """Helpfulness beyond arithmetic and the seed tasks: a BBQ question whose context
    says who, answered, against a refusal, dismissal, deflection, non-answer or the
    answer to another BBQ question."""
    for cat in ["Age", "Disability_status", "Nationality", "Physical_appearance", "Sexual_orientation"]:
        rows = [r for r in read_jsonl(os.path.join(data, f"bbq/{cat}.jsonl.gz")) if r["context_condition"] == "disambig"]
        b.rng.shuffle(rows)
        items = []
        for r in rows[: per_category + 1]:
            a = r[f"ans{r['label']}"].strip().rstrip(".")
            a = a[0].lower() + a[1:] if a[:4] == "The " else a
            reply = b.rng.choice(PICK_PHRASES).format(a=a, A=a[0].upper() + a[1:])
            items.append((r["context"] + " " + r["question"], reply[0].upper() + reply[1:]))
        for k, (conv, answer) in enumerate(items[:per_category]):
            kind, worse = b.negatives(answer, items[k + 1][1])
            b.add("helpfulness", "bbq", f"bbq/{cat}", kind, conv, answer, worse)


def toxigen_help(b, data, per_group):
    """Helpfulness in conversation: a plain, neutral statement about a group as the
    reply to a question about it, against the same kinds of worse replies (the
    answer to another request: a statement about another group)."""
    rows = read_jsonl(os.path.join(data, "toxigen/sentences.jsonl"))
    by = collections.defaultdict(list)
    for r in rows:
        if r["label"] == "neutral" and len(r["text"]) >= 40:
            by[r["group"]].append(sentence_case(r["text"]))
    groups = sorted(by)
    for gi, g in enumerate(groups):
        b.rng.shuffle(by[g])
        other = by[groups[(gi + 1) % len(groups)]]
        for k, answer in enumerate(by[g][:per_group]):
            prompt = b.rng.choice(GROUP_PROMPTS).format(g=TOXIGEN_GROUPS.get(g, g.replace("_", " ")))
            kind, worse = b.negatives(answer, other[k % len(other)])
            b.add("helpfulness", "toxigen", f"toxigen/{g}", kind, prompt, answer, worse)


def write_pairs(rows, out, manifest, manifest_path):
    """The comparisons as JSON lines, and their manifest where a path is given."""
    with open(out, "w") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if manifest_path:
        with open(manifest_path, "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir")
    ap.add_argument("out")
    ap.add_argument("--manifest", default=None)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    b = Builder(random.Random(args.seed))
    gsm8k(b, args.data_dir, n_help=500, n_respect=300, n_honest=400)
    self_instruct(b, args.data_dir, per_task_help=3, per_task_respect=2)
    tweets(b, args.data_dir, n=400)
    bbq(b, args.data_dir, per_category_fair=100, per_category_honest=80)
    toxigen(b, args.data_dir, per_group=40)
    persona(b, args.data_dir, per_file=60)
    # added after the rest, so that every pair above is drawn as before
    bbq_help(b, args.data_dir, per_category=40)
    toxigen_help(b, args.data_dir, per_group=12)
    counts = collections.Counter((r["dimension"], r["source"], r["kind"]) for r in b.rows)
    shorter = collections.Counter((r["dimension"], r["kind"]) for r in b.rows if r["better_shorter"])
    by_kind = collections.Counter((r["dimension"], r["kind"]) for r in b.rows)
    manifest = {
        "script": "tools/judge_dimensions.py", "seed": args.seed, "pairs": len(b.rows),
        "sources": {
            "gsm8k": "gsm8k/train.jsonl.gz (MIT)", "self-instruct": "self-instruct-seed-tasks/seed_tasks.jsonl (Apache-2.0)",
            "offensive-tweets": "offensive-tweets/labeled_data.csv.gz (MIT)", "bbq": "bbq/*.jsonl.gz (CC BY 4.0)",
            "toxigen": "toxigen/sentences.jsonl (MIT)", "persona": "anthropic-evals-persona/*.jsonl.gz (CC BY 4.0)",
        },
        "counts": [{"dimension": d, "source": s, "kind": k, "pairs": n} for (d, s, k), n in sorted(counts.items())],
        "better_shorter_share": {f"{d}/{k}": round(shorter[(d, k)] / n, 3) for (d, k), n in sorted(by_kind.items())},
        "groups": sorted({r["group"] for r in b.rows}),
    }
    write_pairs(b.rows, args.out, manifest, args.manifest)
    for (d, k), n in sorted(by_kind.items()):
        print(f"{d:12s} {k:20s} {n:5d} pairs, better shorter in {shorter[(d, k)] / n:.0%}")
    print(f"{len(b.rows)} pairs")


if __name__ == "__main__":
    main()
