package io.github.openailb.core;

import java.time.Instant;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One model on one backend, with the state Azure keeps per deployment: its cool-down after a
 * 429, its last quota report, its client-side budget and its "not served here" mark after a 404.
 * What concerns the whole instance (connection errors, 5xx, the circuit breaker, a rejected
 * credential, an operator's disable) stays on its {@link Backend}. Like the backend, lock-free:
 * a local hint moves the cool-down, news from another instance only extends it, a success clears
 * only the marks it saw.
 */
public final class Deployment {

	private final Backend backend;

	private final DeploymentConfig config;

	private final Clock clock;

	/** End of the cool-down, epoch milliseconds; 0 when none ran or the last one was cleared. */
	private final Deadline coolDownUntil = new Deadline();

	private final AtomicReference<String> notServed = new AtomicReference<>();

	private volatile Headroom headroom;

	/** Client-side budget, {@code null} when none is configured. */
	private final LocalBudget budget;

	Deployment(Backend backend, DeploymentConfig config, Clock clock) {
		this.backend = backend;
		this.config = config;
		this.clock = clock;
		this.budget = (config.rpm() > 0 || config.tpm() > 0) ? new LocalBudget(config.rpm(), config.tpm()) : null;
	}

	/**
	 * Return the backend this deployment is on.
	 * @return the backend
	 */
	public Backend backend() {
		return this.backend;
	}

	/**
	 * Return the model name the application sends.
	 * @return the model
	 */
	public String model() {
		return this.config.model();
	}

	/**
	 * Return the deployment's name on its backend.
	 * @return the name
	 */
	public String name() {
		return this.config.name();
	}

	/**
	 * Return the deployment's configuration.
	 * @return the configuration
	 */
	public DeploymentConfig config() {
		return this.config;
	}

	/**
	 * Return what this deployment can do now, on its own: {@link BackendState#COOLING_DOWN},
	 * {@link BackendState#MISCONFIGURED} (its backend answered 404 for it) or
	 * {@link BackendState#AVAILABLE}. Whether its backend takes traffic is the backend's state.
	 * @return the state
	 */
	public BackendState state() {
		if (this.coolDownUntil.get() > this.clock.millis()) {
			return BackendState.COOLING_DOWN;
		}
		return (this.notServed.get() != null) ? BackendState.MISCONFIGURED : BackendState.AVAILABLE;
	}

	/**
	 * Return the end of the current cool-down, if one is running.
	 * @return the end of the cool-down, or {@code null}
	 */
	public Instant coolingDownUntil() {
		return this.coolDownUntil.ahead(this.clock.millis());
	}

	/**
	 * Return why the backend seems not to serve this deployment (it answered 404), without secrets.
	 * @return the reason, or {@code null}
	 */
	public String notServed() {
		return this.notServed.get();
	}

	/**
	 * Return the quota this deployment last reported, fresh or not.
	 * @return the last report, or {@code null}
	 */
	public Headroom headroom() {
		return this.headroom;
	}

	void report(Headroom headroom) {
		this.headroom = headroom;
	}

	boolean coolingDown(long now) {
		return this.coolDownUntil.get() > now;
	}

	long coolDownDeadline() {
		return this.coolDownUntil.get();
	}

	/** Start or move the cool-down on a hint of the backend's own; returns whether this started one. */
	boolean coolDown(long until) {
		return this.coolDownUntil.getAndSet(until) <= this.clock.millis();
	}

	/** Extend the cool-down if {@code until} is later (news from another instance never shortens one). */
	boolean extendCoolDown(long until) {
		return this.coolDownUntil.extendTo(until);
	}

	/** Returns whether the deployment was not marked before. */
	boolean markNotServed(String reason) {
		return this.notServed.getAndSet(reason) == null;
	}

	/** Clear the marks seen (a past cool-down, a 404 mark) after a success; returns whether there were any. */
	boolean clearImpairment(long now) {
		boolean impaired = false;
		String reason = this.notServed.get();
		if (reason != null && this.notServed.compareAndSet(reason, null)) {
			impaired = true;
		}
		return this.coolDownUntil.clearIfPast(now) || impaired;
	}

	/** Forget past trouble on an operator's reset of the backend; a mark set meanwhile wins. */
	void reset() {
		this.coolDownUntil.clearAsSeen();
		String reason = this.notServed.get();
		if (reason != null) {
			this.notServed.compareAndSet(reason, null);
		}
		this.headroom = null;
	}

	boolean budgetAllows(long now, long estimatedTokens) {
		return this.budget == null || this.budget.allows(now, estimatedTokens);
	}

	void consumeBudget(long now, long estimatedTokens) {
		if (this.budget != null) {
			this.budget.consume(now, estimatedTokens);
		}
	}

	@Override
	public String toString() {
		return this.backend.name() + "/" + model();
	}

}
