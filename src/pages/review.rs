//! What the two review pages (`queue_review`: an annotation queue's items, `pairwise_review`:
//! a pairwise queue's pairs) share: the queue and who reviews it, the claim of the next piece
//! of work under a lease, an answer sent and the next claimed, the keys a page listens to, and
//! the page's head (name, progress) and reviewer form.

mod reviewer;

use std::future::Future;
use std::rc::Rc;

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_params_map};
use skein_model::pairwise_queue::{BlindPair, ClaimedPair, PairwiseQueue};
use skein_model::queue::{Claim, Claimed, Queue, QueueCounts, QueueItem};

use super::queues::progress_bar;
use crate::api::{self, ApiError};
use crate::components::remote::{Loader, Remote};
use crate::components::shortcuts::{is_field, key_target, not_a_shortcut};
use crate::links;

use reviewer::{remember_reviewer, use_reviewer};

type Answer<T> = Result<T, ApiError>;
/// What a page does with the work claimed (given the project).
type Show<W> = Rc<dyn Fn(&str, Option<W>)>;

/// A kind of queue under review: how it is read and how its next piece of work is claimed.
pub trait ReviewKind: 'static {
    type Queue: Clone + Send + Sync + 'static;
    type Claimed: 'static;
    /// One piece of work (an item, a pair).
    type Work: Clone + 'static;

    fn fetch(project: String, id: String) -> impl Future<Output = Answer<Self::Queue>> + 'static;
    fn claim(
        project: String,
        id: String,
        claim: Claim,
    ) -> impl Future<Output = Answer<Self::Claimed>> + 'static;
    fn name(queue: &Self::Queue) -> &str;
    fn counts(queue: &mut Self::Queue) -> &mut QueueCounts;
    /// The queue's counts now and the work claimed (none when nothing is left).
    fn claimed(claimed: Self::Claimed) -> (QueueCounts, Option<Self::Work>);
}

pub struct Items;

impl ReviewKind for Items {
    type Queue = Queue;
    type Claimed = Claimed;
    type Work = QueueItem;

    async fn fetch(project: String, id: String) -> Answer<Queue> {
        api::queue(&project, &id).await
    }
    async fn claim(project: String, id: String, claim: Claim) -> Answer<Claimed> {
        api::claim_next(&project, &id, &claim).await
    }
    fn name(queue: &Queue) -> &str {
        &queue.name
    }
    fn counts(queue: &mut Queue) -> &mut QueueCounts {
        &mut queue.counts
    }
    fn claimed(claimed: Claimed) -> (QueueCounts, Option<QueueItem>) {
        (claimed.counts, claimed.item)
    }
}

pub struct Pairs;

impl ReviewKind for Pairs {
    type Queue = PairwiseQueue;
    type Claimed = ClaimedPair;
    type Work = BlindPair;

    async fn fetch(project: String, id: String) -> Answer<PairwiseQueue> {
        api::pairwise_queue(&project, &id).await
    }
    async fn claim(project: String, id: String, claim: Claim) -> Answer<ClaimedPair> {
        api::claim_pair(&project, &id, &claim).await
    }
    fn name(queue: &PairwiseQueue) -> &str {
        &queue.name
    }
    fn counts(queue: &mut PairwiseQueue) -> &mut QueueCounts {
        &mut queue.counts
    }
    fn claimed(claimed: ClaimedPair) -> (QueueCounts, Option<BlindPair>) {
        (claimed.counts, claimed.pair)
    }
}

/// A review page's state: the queue (from the URL's id and project), the reviewer, whether
/// a request is under way or failed, whether the queue is finished.
pub struct Review<K: ReviewKind> {
    pub project: Memo<String>,
    pub id: Memo<String>,
    pub reviewer: RwSignal<Option<String>>,
    /// The reviewer is the API key's holder: nobody is asked for a name.
    pub keyed: RwSignal<bool>,
    pub queue: Loader<K::Queue>,
    pub finished: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
    pub busy: RwSignal<bool>,
    /// What the page does with claimed work (none: the queue is finished).
    show: StoredValue<Show<K::Work>, LocalStorage>,
}

impl<K: ReviewKind> Clone for Review<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K: ReviewKind> Copy for Review<K> {}

/// The review of the queue the URL names; `show` gets the project and each piece of work
/// claimed, and `None` once the queue has nothing left for this reviewer. The first claim is
/// made as soon as the reviewer is known.
pub fn use_review<K: ReviewKind>(show: impl Fn(&str, Option<K::Work>) + 'static) -> Review<K> {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let location = use_location();
    let project = Memo::new(move |_| links::project_of(&location.search.get()));
    let (reviewer, keyed) = use_reviewer(project);
    let show: Show<K::Work> = Rc::new(show);
    let review = Review {
        project,
        id,
        reviewer,
        keyed,
        queue: Loader::new(),
        finished: RwSignal::new(false),
        error: RwSignal::new(None),
        busy: RwSignal::new(false),
        show: StoredValue::new_local(show),
    };
    Effect::new(move |_| {
        let (project, id) = (project.get(), id.get());
        review
            .queue
            .load(false, move || K::fetch(project.clone(), id.clone()));
    });
    Effect::new(move |_| {
        if reviewer.get().is_some() && !id.get().is_empty() {
            review.claim_next();
        }
    });
    review
}

impl<K: ReviewKind> Review<K> {
    /// Claims the next piece of work for the reviewer and shows it.
    pub fn claim_next(self) {
        let Some(reviewer) = self.reviewer.get_untracked() else {
            return;
        };
        let (project, id) = (self.project.get_untracked(), self.id.get_untracked());
        self.busy.set(true);
        spawn_local(async move {
            let claim = Claim {
                reviewer,
                lease_secs: None,
            };
            let result = K::claim(project, id, claim).await;
            self.busy.try_set(false);
            match result {
                Ok(claimed) => {
                    let (counts, work) = K::claimed(claimed);
                    self.queue.state.try_update(|q| {
                        if let Remote::Ready(q) = q {
                            *K::counts(q) = counts;
                        }
                    });
                    self.finished.try_set(work.is_none());
                    // Not when the page is gone.
                    if let (Some(show), Some(project)) =
                        (self.show.try_get_value(), self.project.try_get_untracked())
                    {
                        show(&project, work);
                    }
                }
                Err(e) => {
                    self.error
                        .try_set(Some(format!("Couldn't get the next one: {}", e.detail())));
                }
            }
        });
    }

    /// Sends the reviewer's answer on the work shown (`request` is given the project, the
    /// queue's id and the reviewer); once stored, `done` runs and the next piece is claimed,
    /// else the error shows as "`failed`: why". One answer at a time.
    pub fn answer<T, Fut>(
        self,
        failed: &'static str,
        request: impl FnOnce(String, String, String) -> Fut,
        done: impl FnOnce() + 'static,
    ) where
        T: 'static,
        Fut: Future<Output = Answer<T>> + 'static,
    {
        if self.busy.get_untracked() {
            return;
        }
        let Some(reviewer) = self.reviewer.get_untracked() else {
            return;
        };
        self.error.set(None);
        self.busy.set(true);
        let sent = request(
            self.project.get_untracked(),
            self.id.get_untracked(),
            reviewer,
        );
        spawn_local(async move {
            let result = sent.await;
            self.busy.try_set(false);
            match result {
                Ok(_) => {
                    done();
                    self.claim_next();
                }
                Err(e) => {
                    self.error
                        .try_set(Some(format!("{failed}: {}", e.detail())));
                }
            }
        });
    }

    /// The page's head: the queue's name, what it asks (`about`), its progress.
    pub fn head(self, about: Option<&'static str>) -> impl IntoView {
        move || {
            self.queue.state.get().view("Loading the queue…", |mut q| {
                view! {
                    <div class="page-head">
                        <h1>{K::name(&q).to_string()}</h1>
                        {about.map(|a| view! { <span class="result-count">{a}</span> })}
                        <a class="muted" href=links::queues(&self.project.get_untracked())>"All queues"</a>
                    </div>
                    {progress_bar(*K::counts(&mut q))}
                }
                .into_any()
            })
        }
    }

    /// Who reviews: the name form when the browser has to ask (`label` says what the name is
    /// shown on), else "Reviewing as …".
    pub fn reviewer_form(self, label: &'static str) -> impl IntoView {
        let name_input = NodeRef::<html::Input>::new();
        let set_name = move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let name = name_input
                .get_untracked()
                .map(|i| i.value().trim().to_string())
                .unwrap_or_default();
            if !name.is_empty() {
                remember_reviewer(&name);
                self.reviewer.set(Some(name));
            }
        };
        move || {
            match self.reviewer.get() {
            None if self.keyed.get() => ().into_any(),
            None => view! {
                <form class="panel review-name" data-testid="reviewer-form" on:submit=set_name>
                    <label class="fb-field">
                        <span class="fb-label">{label}</span>
                        <input class="input" name="reviewer-name" node_ref=name_input autofocus=true/>
                    </label>
                    <button type="submit" class="button primary">"Start reviewing"</button>
                </form>
            }
            .into_any(),
            Some(name) => view! {
                <p class="muted review-who">{format!("Reviewing as {name}")}</p>
            }
            .into_any(),
        }
        }
    }

    /// The error of the last request, if it failed.
    pub fn error_note(self) -> impl IntoView {
        move || {
            self.error.get().map(|message| {
                view! {
                    <div class="fb-error" role="alert" data-testid="review-error"><span>{message}</span></div>
                }
            })
        }
    }
}

/// Listens to the page's keys while it is open: `handle` gets each key pressed outside a form
/// field and without a modifier, and says whether it used it.
pub fn on_review_keys(handle: impl Fn(&str) -> bool + 'static) {
    let on_key = move |ev: web_sys::KeyboardEvent| {
        if not_a_shortcut(&ev) || is_field(&key_target(&ev).1) {
            return;
        }
        if handle(&ev.key()) {
            ev.prevent_default();
        }
    };
    let listener = window_event_listener(leptos::ev::keydown, on_key);
    on_cleanup(move || listener.remove());
}
