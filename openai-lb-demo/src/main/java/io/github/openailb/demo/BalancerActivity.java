package io.github.openailb.demo;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import io.github.openailb.core.Backend;
import io.github.openailb.core.BalancerListener;
import io.github.openailb.core.Outcome;
import io.github.openailb.core.Step;

import org.springframework.stereotype.Component;

/**
 * Tallies failovers per backend, answers and 429s per deployment, and how requests ended, for the
 * page and the burst report.
 */
@Component
class BalancerActivity implements BalancerListener {

	private final Map<String, LongAdder> failovers = new ConcurrentHashMap<>();

	private final Map<Step.Ending, LongAdder> endings = new ConcurrentHashMap<>();

	private final Map<String, LongAdder> answered = new ConcurrentHashMap<>();

	private final Map<String, LongAdder> throttled = new ConcurrentHashMap<>();

	@Override
	public void attemptEnded(Backend backend, String model, Outcome outcome, long nanos) {
		if (model == null) {
			return;
		}
		Map<String, LongAdder> tally = switch (outcome) {
			case SUCCESS -> this.answered;
			case THROTTLED -> this.throttled;
			default -> null;
		};
		if (tally != null) {
			tally.computeIfAbsent(key(backend.name(), model), (key) -> new LongAdder()).increment();
		}
	}

	@Override
	public void failedOver(Backend from, Outcome outcome) {
		this.failovers.computeIfAbsent(from.name(), (name) -> new LongAdder()).increment();
	}

	@Override
	public void requestEnded(int attempts, Step.Ending ending) {
		this.endings.computeIfAbsent(ending, (key) -> new LongAdder()).increment();
	}

	long failovers(String backend) {
		LongAdder count = this.failovers.get(backend);
		return (count != null) ? count.sum() : 0;
	}

	long answered(String backend, String model) {
		return sum(this.answered, key(backend, model));
	}

	long throttled(String backend, String model) {
		return sum(this.throttled, key(backend, model));
	}

	private static String key(String backend, String model) {
		return backend + '\n' + model;
	}

	private static long sum(Map<String, LongAdder> tally, String key) {
		LongAdder count = tally.get(key);
		return (count != null) ? count.sum() : 0;
	}

	long ended(Step.Ending ending) {
		LongAdder count = this.endings.get(ending);
		return (count != null) ? count.sum() : 0;
	}

}
