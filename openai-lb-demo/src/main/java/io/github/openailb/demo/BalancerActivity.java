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
 * Tallies failovers per backend and how requests ended, for the page and the burst report.
 */
@Component
class BalancerActivity implements BalancerListener {

	private final Map<String, LongAdder> failovers = new ConcurrentHashMap<>();

	private final Map<Step.Ending, LongAdder> endings = new ConcurrentHashMap<>();

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

	long ended(Step.Ending ending) {
		LongAdder count = this.endings.get(ending);
		return (count != null) ? count.sum() : 0;
	}

}
