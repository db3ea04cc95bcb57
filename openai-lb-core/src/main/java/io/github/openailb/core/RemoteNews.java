package io.github.openailb.core;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies what other application instances report (through a {@link SharedState}) to this
 * instance's backends, within the bounds a backend's own hints have: news is only as good as
 * the store it came through, which anyone with access to it can write to. A deadline not in the
 * future is ignored, one further ahead than {@code max-cool-down} is capped there, a backend (or a
 * backend's deployment) not configured here is ignored, and a reason is cut to one short line of printable text. News
 * may extend a running cool-down, never shorten it; only an operator's reset, which anyone able
 * to write to the store could also do by deleting keys, ends one early.
 */
final class RemoteNews implements SharedState.Listener {

	private static final Logger logger = LoggerFactory.getLogger(LoadBalancer.class);

	private final LoadBalancer balancer;

	private final List<String> names;

	RemoteNews(LoadBalancer balancer) {
		this.balancer = balancer;
		this.names = balancer.backends().stream().map(Backend::name).toList();
	}

	@Override
	public List<String> backends() {
		return this.names;
	}

	@Override
	public void coolingDown(String name, long until) {
		Backend backend = this.balancer.backend(name);
		long now = this.balancer.clock().millis();
		if (backend == null || until <= now) {
			return;
		}
		backend.extendCoolDown(Math.min(until, now + this.balancer.config().maxCoolDown().toMillis()));
	}

	@Override
	public List<String> models(String name) {
		Backend backend = this.balancer.backend(name);
		return (backend != null) ? backend.deployments().stream().map(Deployment::model).toList() : List.of();
	}

	@Override
	public void coolingDown(String name, String model, long until) {
		Deployment deployment = deployment(name, model);
		long now = this.balancer.clock().millis();
		if (deployment == null || until <= now) {
			return;
		}
		deployment.extendCoolDown(Math.min(until, now + this.balancer.config().maxCoolDown().toMillis()));
	}

	@Override
	public void misconfigured(String name, String model, String reason) {
		Deployment deployment = deployment(name, model);
		if (deployment != null) {
			deployment.markNotServed(printable(reason));
		}
	}

	/** Only a deployment configured here: news names whatever the store holds. */
	private Deployment deployment(String name, String model) {
		Backend backend = this.balancer.backend(name);
		return (backend != null && model != null) ? backend.deployment(model) : null;
	}

	@Override
	public void circuitOpen(String name, long until) {
		Backend backend = this.balancer.backend(name);
		long now = this.balancer.clock().millis();
		if (backend == null || until <= now) {
			return;
		}
		backend.openBreakerUntil(Math.min(until, now + this.balancer.config().maxCoolDown().toMillis()));
	}

	@Override
	public void misconfigured(String name, String reason) {
		Backend backend = this.balancer.backend(name);
		if (backend != null) {
			backend.markMisconfigured(printable(reason));
		}
	}

	@Override
	public void disabledByOperator(String name, boolean disabled) {
		Backend backend = this.balancer.backend(name);
		if (backend != null && backend.disableByOperator(disabled)) {
			logger.info("openai-lb: backend '{}' {} by an operator on another instance", name,
					disabled ? "disabled" : "enabled again");
		}
	}

	@Override
	public void reset(String name) {
		Backend backend = this.balancer.backend(name);
		if (backend != null) {
			backend.reset();
			logger.info("openai-lb: backend '{}' reset by an operator on another instance", name);
		}
	}

	/** One line of at most {@link SharedState#MAX_REASON_LENGTH} characters, control characters blanked. */
	static String printable(String reason) {
		if (reason == null || reason.isBlank()) {
			return "reported by another instance";
		}
		int length = Math.min(reason.length(), SharedState.MAX_REASON_LENGTH);
		StringBuilder line = new StringBuilder(length);
		for (int i = 0; i < length; i++) {
			char c = reason.charAt(i);
			line.append(Character.isISOControl(c) ? ' ' : c);
		}
		return line.toString().strip();
	}

}
