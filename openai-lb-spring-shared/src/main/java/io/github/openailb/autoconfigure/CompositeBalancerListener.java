package io.github.openailb.autoconfigure;

import java.time.Duration;
import java.util.List;

import io.github.openailb.core.Backend;
import io.github.openailb.core.BalancerListener;
import io.github.openailb.core.Outcome;
import io.github.openailb.core.Step;

/**
 * Tells every listener bean, in order.
 */
final class CompositeBalancerListener implements BalancerListener {

	private final BalancerListener[] listeners;

	private CompositeBalancerListener(List<BalancerListener> listeners) {
		this.listeners = listeners.toArray(BalancerListener[]::new);
	}

	static BalancerListener of(List<BalancerListener> listeners) {
		return (listeners.size() == 1) ? listeners.get(0) : new CompositeBalancerListener(listeners);
	}

	@Override
	public void attemptEnded(Backend backend, Outcome outcome, long nanos) {
		for (BalancerListener listener : this.listeners) {
			listener.attemptEnded(backend, outcome, nanos);
		}
	}

	@Override
	public void attemptEnded(Backend backend, String model, Outcome outcome, long nanos) {
		for (BalancerListener listener : this.listeners) {
			listener.attemptEnded(backend, model, outcome, nanos);
		}
	}

	@Override
	public void coolDownStarted(Backend backend, String model, Duration duration) {
		for (BalancerListener listener : this.listeners) {
			listener.coolDownStarted(backend, model, duration);
		}
	}

	@Override
	public void coolDownStarted(Backend backend, Duration duration) {
		for (BalancerListener listener : this.listeners) {
			listener.coolDownStarted(backend, duration);
		}
	}

	@Override
	public void failedOver(Backend from, Outcome outcome) {
		for (BalancerListener listener : this.listeners) {
			listener.failedOver(from, outcome);
		}
	}

	@Override
	public void requestEnded(int attempts, Step.Ending ending) {
		for (BalancerListener listener : this.listeners) {
			listener.requestEnded(attempts, ending);
		}
	}

}
