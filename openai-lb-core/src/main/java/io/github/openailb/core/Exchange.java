package io.github.openailb.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request's way through the backends: which were tried, how long it waited, what the last
 * real answer was. An adapter loops on {@link #next()} and reports every attempt it sends with
 * {@link #answered}, {@link #failed} or {@link #abandoned}. A request runs one attempt at a
 * time, but its reports may race: a cancel from the caller's thread, a timeout from a timer, the
 * answer from an I/O thread. The first report of an attempt settles it (see
 * {@link Step.Attempt}), the request ends once, and a cancel also stops an attempt that is
 * being chosen at that moment.
 */
public final class Exchange {

	private static final Logger logger = LoggerFactory.getLogger(LoadBalancer.class);

	private static final VarHandle ENDING;

	static {
		try {
			ENDING = MethodHandles.lookup().findVarHandle(Exchange.class, "ending", Step.Ending.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private final LoadBalancer balancer;

	/**
	 * Three bit sets of {@link #words} words each, in one array so that a request allocates no
	 * more than it did for two: the backends tried (by index), those refused by their breaker in
	 * this round (by index; cleared when the request waits), and the eligible backends of the
	 * current choice (by position in {@link LoadBalancer#byPriority()}), so that the pick is
	 * found without judging every backend twice.
	 */
	private final long[] marks;

	private final int words;

	private final long started;

	private final long estimatedTokens;

	/** The only backend a request tied to server-side state may go to; {@code null} for the others. */
	private final Backend home;

	/** The model the request is for, as the caller named it; {@code null} when it names none. */
	private final String modelName;

	/** Index of the model among those deployment maps list, -1 for another model or none. */
	private final int model;

	/** Set when a backend was passed over for lack of quota in the current choice. */
	private boolean quotaSkipped;

	private long waited;

	/** Read on the request's own chain; a cancel racing it may report one attempt less. */
	private int attempts;

	/** Read on the request's own chain, to choose how a request that gives up ends. */
	private int lastStatus;

	/** Whether an attempt of this request timed out and left its backend alone for a while. */
	private boolean timedOut;

	/** How the request ended, {@code null} until then; set once. */
	@SuppressWarnings("unused") // through ENDING
	private volatile Step.Ending ending;

	/** The latest attempt handed out: a cancel gives its permission back if it is still under way. */
	private volatile Step.Attempt current;

	// the report that wins an attempt may write these while the losing report's thread asks next()

	private volatile String history;

	/** Why {@link #left} was left; written before it. */
	private volatile Outcome leftBecause;

	/** The backend the last attempt failed on, until the next attempt makes that a failover. */
	private volatile Backend left;

	/** The bit sets in {@link #marks}. */
	private static final int TRIED = 0;

	private static final int REFUSED = 1;

	private static final int ELIGIBLE = 2;

	private static final java.util.regex.Pattern QUERY = java.util.regex.Pattern.compile("\\?[^\\s)]*");

	Exchange(LoadBalancer balancer, long estimatedTokens, Backend home, String model) {
		this.balancer = balancer;
		this.estimatedTokens = estimatedTokens;
		this.home = home;
		this.modelName = model;
		this.model = balancer.modelIndex(model);
		this.words = (balancer.backends().size() + 63) >>> 6;
		this.marks = new long[3 * this.words];
		this.started = balancer.clock().millis();
	}

	/**
	 * Decide the next step of this request.
	 * @return an attempt to send, a wait, or the end
	 */
	public Step next() {
		if (this.ending == Step.Ending.CANCELLED) {
			return cancelled();
		}
		if (this.modelName != null && !this.balancer.serves(this.model)) {
			return modelNotServed();
		}
		long now = this.balancer.clock().millis();
		Backend chosen;
		while ((chosen = choose(now)) != null) {
			if (chosen.tryAcquirePermission()) {
				Deployment slot = chosen.slot(this.model);
				Step.Attempt attempt = new Step.Attempt(chosen, slot, this.attempts + 1, System.nanoTime());
				// publish, then look for a cancel; abandoned() does the reverse: one of them sees the other
				this.current = attempt;
				if (this.ending == Step.Ending.CANCELLED) {
					release(attempt);
					return cancelled();
				}
				set(TRIED, chosen.index());
				chosen.consumeBudget(now, this.estimatedTokens, slot);
				this.attempts = attempt.number();
				if (logger.isDebugEnabled()) {
					logger.debug("openai-lb: attempt {} goes to backend '{}'", attempt.number(), chosen.name());
				}
				Backend left = this.left;
				if (left != null) {
					// after a wait the same backend may come round again: that is a retry, not a failover
					if (left != chosen) {
						logger.debug("openai-lb: failing over from backend '{}' to '{}'", left.name(), chosen.name());
						this.balancer.listener().failedOver(left, this.leftBecause);
					}
					this.left = null;
				}
				return attempt;
			}
			set(REFUSED, chosen.index());
		}
		long soonest = soonestFree(now);
		long maxWait = this.balancer.config().maxWait().toMillis();
		if (soonest != Long.MAX_VALUE && maxWait > 0 && soonest - now <= maxWait - this.waited) {
			long delay = Math.max(1, soonest - now);
			this.waited += delay;
			// a backend that asked for a pause may be tried again once the pause is over
			for (Backend backend : this.balancer.backends()) {
				if (backend.freeAt(now, backend.slot(this.model)) > now) {
					clear(TRIED, backend.index());
				}
			}
			java.util.Arrays.fill(this.marks, REFUSED * this.words, (REFUSED + 1) * this.words, 0);
			logger.debug("openai-lb: every backend is cooling down, waiting {} ms", delay);
			return new Step.Wait(Duration.ofMillis(delay));
		}
		return noneLeft(now, soonest);
	}

	/**
	 * End the request now, because its time is up: the caller gets what it would get if no
	 * backend were left to try (the last real answer, the synthetic 429 or a failure).
	 * @return the end
	 */
	public Step.GiveUp giveUpNow() {
		long now = this.balancer.clock().millis();
		return noneLeft(now, soonestFree(now));
	}

	/** The end of a request with no backend left to try: its home's, for one tied to server-side state. */
	private Step.GiveUp noneLeft(long now, long soonest) {
		return (this.home != null) ? homeGivenUp(now, soonest) : giveUp(now, soonest);
	}

	/** When the soonest backend that is not free now will be, or {@link Long#MAX_VALUE}. */
	private long soonestFree(long now) {
		long soonest = Long.MAX_VALUE;
		for (Backend backend : (this.home != null) ? java.util.List.of(this.home) : this.balancer.backends()) {
			long free = (backend.isDisabled() || !serves(backend)) ? Long.MAX_VALUE
					: backend.freeAt(now, backend.slot(this.model));
			if (free > now) {
				soonest = Math.min(soonest, free);
			}
		}
		return soonest;
	}

	/** Choose among backends with quota left; only if none has any, among the others. */
	private Backend choose(long now) {
		if (this.home != null) {
			// the state is there and nowhere else: no other backend, and no quota to steer by
			return eligible(this.home, now, false) ? this.home : null;
		}
		this.quotaSkipped = false;
		Backend chosen = choose(now, true);
		return (chosen != null || !this.quotaSkipped) ? chosen : choose(now, false);
	}

	/**
	 * Weighted choice within the best tier that has an eligible backend: one walk judges each
	 * backend once, marks the eligible ones and sums their weights; one draw; a scan of the marks
	 * finds the pick. (One walk with a draw per backend, weighted reservoir style, measured no
	 * faster with 100 backends: the draws cost what the second walk saves.)
	 */
	private Backend choose(long now, boolean respectQuota) {
		Backend[] candidates = this.balancer.byPriority();
		int[] priorities = this.balancer.priorities();
		long[] weights = this.balancer.weights();
		Strategy strategy = this.balancer.config().strategy();
		boolean headroom = strategy == Strategy.HEADROOM;
		// whether a backend's headroom lowered its weight: only then is a weight read again to find the pick
		boolean lowered = false;
		long[] marks = this.marks;
		int eligibleAt = ELIGIBLE * this.words;
		java.util.Arrays.fill(marks, eligibleAt, eligibleAt + this.words, 0);
		int tier = Integer.MAX_VALUE;
		int first = -1;
		long total = 0;
		for (int i = 0; i < candidates.length; i++) {
			int priority = priorities[i];
			if (priority > tier) {
				break;
			}
			Backend backend = candidates[i];
			if (eligible(backend, now, respectQuota, strategy)) {
				if (first < 0) {
					tier = priority;
					first = i;
				}
				marks[eligibleAt + (i >>> 6)] |= 1L << i;
				long weight = headroom ? backend.headroomWeight(weights[i], now, backend.slot(this.model)) : weights[i];
				lowered |= weight != weights[i];
				total += weight;
			}
		}
		if (total == 0) {
			return null;
		}
		long pick = this.balancer.nextLong(total);
		int last = first;
		for (int word = first >>> 6; word < this.words; word++) {
			long bits = marks[eligibleAt + word];
			while (bits != 0) {
				int i = (word << 6) + Long.numberOfTrailingZeros(bits);
				bits &= bits - 1;
				Backend backend = candidates[i];
				last = i;
				pick -= lowered ? backend.headroomWeight(weights[i], now, backend.slot(this.model)) : weights[i];
				if (pick < 0) {
					return backend;
				}
			}
		}
		// only when a headroom report came in between the two reads of a weight
		return candidates[last];
	}

	private boolean eligible(Backend backend, long now, boolean respectQuota) {
		return eligible(backend, now, respectQuota, this.balancer.config().strategy());
	}

	private boolean eligible(Backend backend, long now, boolean respectQuota, Strategy strategy) {
		int index = backend.index();
		int word = index >>> 6;
		// tried or refused
		if (((this.marks[TRIED * this.words + word] | this.marks[REFUSED * this.words + word]) & (1L << index)) != 0
				|| !serves(backend)) {
			return false;
		}
		Deployment slot = backend.slot(this.model);
		if (!backend.selectable(now, slot)) {
			return false;
		}
		if (respectQuota && !backend.quotaAllows(now, this.estimatedTokens, strategy, slot)) {
			this.quotaSkipped = true;
			return false;
		}
		return true;
	}

	private Step.GiveUp giveUp(long now, long soonest) {
		Step.Ending ending;
		long retryAfter = 0;
		long millis = (soonest != Long.MAX_VALUE) ? soonest - now : 0;
		if (this.lastStatus != 0 && this.lastStatus != 429) {
			ending = Step.Ending.LAST_ANSWER;
		}
		else {
			ending = (this.lastStatus == 429) ? Step.Ending.THROTTLED : whyNoneLeft(now);
			if (ending == Step.Ending.THROTTLED || (ending == Step.Ending.UNAVAILABLE
					&& (soonest != Long.MAX_VALUE || anySet(REFUSED)))) {
				retryAfter = Math.max(1, (millis + 999) / 1000);
			}
		}
		String history = this.history;
		String reason = (history != null) ? history
				: (this.attempts == 0) ? "no backend is available (" + states() + ")" : "no answer";
		// once per request: the caller gets the answer, metrics count it; state changes are logged at INFO
		if (logger.isDebugEnabled()) {
			logger.debug("openai-lb: the request ends {} ({}), retry after {}s", ending, reason, retryAfter);
		}
		end(ending);
		return new Step.GiveUp(ending, retryAfter, reason);
	}

	/**
	 * Why no backend is left when none answered with an HTTP status: some backend is throttled
	 * (cooling down, or probing right after a cool-down), else some backend this request did not
	 * try (or saw time out) is kept out by its open circuit breaker, else every backend tried failed.
	 */
	private Step.Ending whyNoneLeft(long now) {
		boolean breakers = false;
		for (Backend backend : this.balancer.backends()) {
			if (backend.isDisabled() || !serves(backend)) {
				continue;
			}
			Deployment slot = backend.slot(this.model);
			if (backend.coolDownDeadline() > now || (slot != null && slot.coolingDown(now))) {
				return Step.Ending.THROTTLED;
			}
			if (isSet(TRIED, backend.index())) {
				// a backend this request saw time out now rests: the caller may come back when it is probed
				if (this.timedOut && backend.blockedByBreaker(now)) {
					breakers = true;
				}
				continue;
			}
			if (backend.blockedByBreaker(now)) {
				breakers = true;
			}
			else if (isSet(REFUSED, backend.index())) {
				return Step.Ending.THROTTLED;
			}
		}
		return breakers ? Step.Ending.UNAVAILABLE : Step.Ending.FAILED;
	}

	/**
	 * Report the status an attempt answered with. For an outcome that fails over, pass the
	 * (small) error body so Azure's "retry after N seconds" phrase can be read.
	 * @param attempt the attempt
	 * @param status the HTTP status
	 * @param headers header lookup by lower-case name
	 * @param body the error body when the outcome fails over, else {@code null}
	 * @return the outcome; when it {@link Outcome#failsOver() fails over}, call {@link #next()}.
	 * If the attempt was already settled (cancelled, timed out) nothing is recorded: the first
	 * report stands.
	 */
	public Outcome answered(Step.Attempt attempt, int status, Function<String, String> headers, String body) {
		Outcome outcome = outcomeOf(status);
		if (!attempt.settle(Step.Attempt.UNDER_WAY, Step.Attempt.ANSWERED)) {
			// cancelled, timed out or reported before: that first report stands alone
			return outcome;
		}
		Backend backend = attempt.backend();
		Deployment slot = attempt.deployment();
		long nanos = System.nanoTime() - attempt.startNanos();
		backend.count(outcome);
		this.lastStatus = status;
		Headroom headroom = Headroom.read(headers, this.balancer.clock().millis());
		if (headroom != null) {
			// Azure reports the quota of the deployment that answered
			if (slot != null) {
				slot.report(headroom);
			}
			else {
				backend.report(headroom);
			}
		}
		switch (outcome) {
			case SUCCESS -> {
				backend.breaker().onSuccess(nanos, TimeUnit.NANOSECONDS);
				long now = this.balancer.clock().millis();
				boolean cleared = backend.clearImpairment(now);
				if (backend.closedAfterTrip() || cleared) {
					logger.info("openai-lb: backend '{}' answers again", backend.name());
				}
				if (slot != null && slot.clearImpairment(now)) {
					logger.info("openai-lb: backend '{}' answers again for model '{}'", backend.name(), slot.model());
				}
			}
			case THROTTLED -> {
				long now = this.balancer.clock().millis();
				Duration hint = CoolDownHints.forThrottled(headers, body, now);
				Duration rest = (hint != null) ? hint : this.balancer.config().defaultRetryAfter();
				if (slot != null) {
					// the deployment's quota is spent, not the instance: its breaker is not involved
					backend.breaker().releasePermission();
					coolDown(slot, rest, now);
				}
				else {
					coolDown(backend, rest, now, "answered 429");
				}
			}
			case FAILURE -> {
				breakerOpened(backend, backend.recordFailure(nanos, new BackendFailureException(status)));
				long now = this.balancer.clock().millis();
				Duration hint = CoolDownHints.explicit(headers, now);
				if (hint != null) {
					coolDown(backend, hint, now, "answered " + status + " with a retry hint");
				}
			}
			case MISCONFIGURED -> {
				backend.breaker().releasePermission();
				if (status == 404 && slot != null) {
					// this deployment is missing here; the backend and its other deployments are fine
					if (slot.markNotServed("answered 404")) {
						logger.info("openai-lb: backend '{}' answered 404 for model '{}' (deployment '{}'): marked "
								+ "not served there", backend.name(), slot.model(), slot.name());
					}
					this.balancer.sharedState().misconfigured(backend.name(), slot.model(), "answered 404");
				}
				else {
					misconfigured(backend, "answered " + status);
					this.balancer.sharedState().misconfigured(backend.name(), "answered " + status);
				}
			}
			case CLIENT_ERROR -> backend.breaker().releasePermission();
		}
		this.balancer.listener().attemptEnded(backend, model(slot), outcome, nanos);
		if (outcome.failsOver()) {
			noteFailure(backend, "HTTP " + status, outcome);
		}
		else {
			end(Step.Ending.ANSWERED);
		}
		return outcome;
	}

	/**
	 * What an answer with this status means for this request: as {@link Outcome#ofStatus}, except
	 * that a 404 to a request tied to server-side state is the caller's answer (the object is not
	 * there), not a sign of a misconfigured backend.
	 * @param status the HTTP status
	 * @return the outcome
	 */
	public Outcome outcomeOf(int status) {
		return (status == 404 && this.home != null) ? Outcome.CLIENT_ERROR : Outcome.ofStatus(status);
	}

	/**
	 * The end of a request tied to server-side state whose home backend cannot take it: its last
	 * real answer (a 5xx, a 401), else the synthetic 503 naming the backend and why, with the time
	 * until it is free when that is known. Other backends are never tried: they do not hold the state.
	 */
	private Step.GiveUp homeGivenUp(long now, long soonest) {
		if (this.lastStatus != 0 && this.lastStatus != 429) {
			return giveUp(now, soonest);
		}
		long retryAfter = (soonest != Long.MAX_VALUE) ? Math.max(1, (soonest - now + 999) / 1000) : 0;
		String history = this.history;
		String reason = "the stateful backend '" + this.home.name() + "' cannot take it: "
				+ ((history != null) ? history : this.home.name() + ": " + this.home.state());
		logger.debug("openai-lb: a request tied to server-side state ends unanswered ({})", reason);
		end(Step.Ending.STATEFUL_UNAVAILABLE);
		return new Step.GiveUp(Step.Ending.STATEFUL_UNAVAILABLE, retryAfter, reason);
	}

	/**
	 * Report that an attempt got no answer: connect error, reset, timeout. The request fails
	 * over. Nothing is recorded if the attempt was already settled.
	 * @param attempt the attempt
	 * @param error what went wrong
	 */
	public void failed(Step.Attempt attempt, Throwable error) {
		fail(attempt, error, false);
	}

	/**
	 * Report that an attempt timed out: no connection within the connect timeout, or no answer
	 * within the response timeout. Like {@link #failed}, and the backend is also left alone for
	 * {@code timeout-cool-down} (its breaker held open, the news shared with other instances), so
	 * that a hanging backend costs the timeout once rather than on every request. Not for the
	 * end of the request's own time ({@code max-duration}): that is {@link #failed}.
	 * @param attempt the attempt
	 * @param error the timeout
	 */
	public void timedOut(Step.Attempt attempt, Throwable error) {
		fail(attempt, error, true);
	}

	private void fail(Step.Attempt attempt, Throwable error, boolean timeout) {
		if (!attempt.settle(Step.Attempt.UNDER_WAY, Step.Attempt.FAILED)) {
			return;
		}
		Backend backend = attempt.backend();
		long nanos = System.nanoTime() - attempt.startNanos();
		backend.count(Outcome.FAILURE);
		breakerOpened(backend, backend.recordFailure(nanos, error));
		Duration rest = this.balancer.config().timeoutCoolDown();
		if (timeout && !rest.isZero()) {
			this.timedOut = true;
			Duration capped = capped(rest);
			long until = this.balancer.clock().millis() + capped.toMillis();
			if (backend.openBreakerUntil(until)) {
				this.balancer.sharedState().circuitOpen(backend.name(), until, "timed out");
				logger.info("openai-lb: backend '{}' timed out; left alone for {} ms", backend.name(),
						capped.toMillis());
				this.balancer.listener().coolDownStarted(backend, capped);
			}
		}
		this.balancer.listener().attemptEnded(backend, model(attempt.deployment()), Outcome.FAILURE, nanos);
		noteFailure(backend, describe(error), Outcome.FAILURE);
	}

	/**
	 * Report that the backend's credential could not be obtained: the request fails over like
	 * after a 401 and the backend shows as misconfigured.
	 * @param attempt the attempt
	 * @param reason why, without secrets
	 */
	public void credentialFailed(Step.Attempt attempt, String reason) {
		if (!attempt.settle(Step.Attempt.UNDER_WAY, Step.Attempt.FAILED)) {
			return;
		}
		Backend backend = attempt.backend();
		backend.count(Outcome.MISCONFIGURED);
		backend.breaker().releasePermission();
		misconfigured(backend, reason);
		this.balancer.listener()
			.attemptEnded(backend, model(attempt.deployment()), Outcome.MISCONFIGURED,
					System.nanoTime() - attempt.startNanos());
		noteFailure(backend, reason, Outcome.MISCONFIGURED);
	}

	/**
	 * Report that a response which had started streaming broke. It is not replayed; the
	 * backend records a failure, once per attempt, in addition to the success its answer
	 * recorded. Nothing is recorded for an attempt the caller abandoned first.
	 * @param attempt the attempt
	 * @param error what went wrong
	 */
	public void streamBroke(Step.Attempt attempt, Throwable error) {
		if (!attempt.settle(Step.Attempt.ANSWERED, Step.Attempt.BROKEN)
				&& !attempt.settle(Step.Attempt.UNDER_WAY, Step.Attempt.BROKEN)) {
			return;
		}
		Backend backend = attempt.backend();
		breakerOpened(backend, backend.recordFailure(System.nanoTime() - attempt.startNanos(), error));
		if (logger.isDebugEnabled()) {
			logger.debug("openai-lb: stream from backend '{}' broke after it started: {}", backend.name(),
					describe(error));
		}
	}

	/**
	 * Report that the caller cancelled. The backend is not blamed: the breaker permission of an
	 * attempt still under way is given back, whichever attempt the caller knew of, and
	 * {@link #next()} hands out no further attempt. Safe to call more than once, from any
	 * thread, and after the attempt was reported (then it changes nothing).
	 * @param attempt the attempt the caller knows of, or {@code null} if none
	 */
	public void abandoned(Step.Attempt attempt) {
		// end first, then look at the current attempt; next() does the reverse
		end(Step.Ending.CANCELLED);
		if (attempt != null) {
			release(attempt);
		}
		Step.Attempt current = this.current;
		if (current != null) {
			release(current);
		}
	}

	private static void release(Step.Attempt attempt) {
		if (attempt.settle(Step.Attempt.UNDER_WAY, Step.Attempt.ABANDONED)) {
			attempt.backend().breaker().releasePermission();
		}
	}

	private static Step.GiveUp cancelled() {
		return new Step.GiveUp(Step.Ending.CANCELLED, 0, "cancelled by the caller");
	}

	/**
	 * Name every backend that serves the request with its state (its deployment's, when that is
	 * what keeps it out), so an error without any attempt still says why.
	 */
	private String states() {
		long now = this.balancer.clock().millis();
		return this.balancer.backends().stream().filter(this::serves).map((backend) -> {
			Deployment slot = backend.slot(this.model);
			return backend.name() + ": " + ((slot != null && slot.coolingDown(now) && backend.selectable(now))
					? BackendState.COOLING_DOWN + " (" + slot.model() + ")" : backend.state());
		}).collect(java.util.stream.Collectors.joining(", "));
	}

	private boolean serves(Backend backend) {
		return backend.serves(this.model, this.modelName != null);
	}

	/** The model whose deployment an attempt went to, as metrics name it: {@code null} for none. */
	private static String model(Deployment slot) {
		return (slot != null) ? slot.model() : null;
	}

	/**
	 * The end of a request for a model no backend serves: no backend is tried, and the caller learns
	 * which models are served.
	 */
	private Step.GiveUp modelNotServed() {
		String model = ((this.modelName.length() > 100) ? this.modelName.substring(0, 100) + "..." : this.modelName)
			.replaceAll("\\p{Cntrl}", "?");
		String reason = "openai-lb: no backend serves the model '" + model + "'; the deployment maps "
				+ "(openai.lb.backends[*].deployments) list " + String.join(", ", this.balancer.models());
		logger.debug("openai-lb: the request ends unanswered ({})", reason);
		end(Step.Ending.MODEL_NOT_SERVED);
		return new Step.GiveUp(Step.Ending.MODEL_NOT_SERVED, 0, reason);
	}

	/**
	 * Return how many attempts this request made so far.
	 * @return the attempts
	 */
	public int attempts() {
		return this.attempts;
	}

	/**
	 * Return when this request began, in the balancer clock's epoch milliseconds.
	 * @return the start time
	 */
	public long started() {
		return this.started;
	}

	private void coolDown(Backend backend, Duration hint, long now, String why) {
		Duration capped = capped(hint);
		boolean started = backend.coolDown(now + capped.toMillis());
		this.balancer.sharedState().coolingDown(backend.name(), now + capped.toMillis(), why);
		if (started) {
			logger.info("openai-lb: backend '{}' {}; cooling down for {} ms", backend.name(), why, capped.toMillis());
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("openai-lb: backend '{}' {}; cool-down moved to {} ms from now", backend.name(), why,
					capped.toMillis());
		}
		this.balancer.listener().coolDownStarted(backend, capped);
	}

	/** A deployment's own cool-down: the other models on its backend keep going. */
	private void coolDown(Deployment slot, Duration hint, long now) {
		Duration capped = capped(hint);
		Backend backend = slot.backend();
		boolean started = slot.coolDown(now + capped.toMillis());
		this.balancer.sharedState().coolingDown(backend.name(), slot.model(), now + capped.toMillis(), "answered 429");
		if (started) {
			logger.info("openai-lb: backend '{}' answered 429 for model '{}'; cooling down that deployment for {} ms",
					backend.name(), slot.model(), capped.toMillis());
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("openai-lb: backend '{}' answered 429 for model '{}'; cool-down moved to {} ms from now",
					backend.name(), slot.model(), capped.toMillis());
		}
		this.balancer.listener().coolDownStarted(backend, slot.model(), capped);
	}

	private void noteFailure(Backend backend, String what, Outcome outcome) {
		String entry = backend.name() + ": " + what;
		String history = this.history;
		this.history = (history != null) ? history + ", " + entry : entry;
		this.leftBecause = outcome;
		this.left = backend;
		if (logger.isDebugEnabled()) {
			logger.debug("openai-lb: backend '{}' gave {} on attempt {}", backend.name(), what, this.attempts);
		}
	}

	/** No single rest, a backend's hint or a timeout's, lasts longer than {@code max-cool-down}. */
	private Duration capped(Duration rest) {
		Duration max = this.balancer.config().maxCoolDown();
		return (rest.compareTo(max) > 0) ? max : rest;
	}

	private void breakerOpened(Backend backend, long probeAt) {
		if (probeAt != 0) {
			logger.info("openai-lb: circuit breaker of backend '{}' opened after failures; next probe in {} ms",
					backend.name(), probeAt - this.balancer.clock().millis());
		}
	}

	private void misconfigured(Backend backend, String reason) {
		if (backend.markMisconfigured(reason)) {
			logger.info("openai-lb: backend '{}' {}: marked misconfigured (a key or deployment may be wrong)",
					backend.name(), reason);
		}
	}

	private void end(Step.Ending ending) {
		if (ENDING.compareAndSet(this, null, ending)) {
			this.balancer.listener().requestEnded(this.attempts, ending);
		}
	}

	private static String describe(Throwable error) {
		Throwable cause = error;
		while (cause.getCause() != null && cause.getCause() != cause && cause.getMessage() == null) {
			cause = cause.getCause();
		}
		String message = cause.getMessage();
		String name = cause.getClass().getSimpleName();
		if (message == null || message.isBlank()) {
			return name;
		}
		// exception messages may quote URLs: drop their query strings, where credentials could hide
		return name + " (" + QUERY.matcher(message).replaceAll("") + ")";
	}

	private boolean anySet(int set) {
		for (int word = set * this.words; word < (set + 1) * this.words; word++) {
			if (this.marks[word] != 0) {
				return true;
			}
		}
		return false;
	}

	private void set(int set, int index) {
		this.marks[set * this.words + (index >>> 6)] |= 1L << index;
	}

	private void clear(int set, int index) {
		this.marks[set * this.words + (index >>> 6)] &= ~(1L << index);
	}

	private boolean isSet(int set, int index) {
		return (this.marks[set * this.words + (index >>> 6)] & (1L << index)) != 0;
	}

}
