package io.github.openailb.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Small helpers shared by the engine tests.
 */
final class EngineFixtures {

	static final Function<String, String> NO_HEADERS = (name) -> null;

	private EngineFixtures() {
	}

	static BalancerConfig.BackendBuilder backend(String name) {
		return new BalancerConfig.BackendBuilder().name(name).url("https://" + name + ".example.com");
	}

	static Function<String, String> headers(String... namesAndValues) {
		Map<String, String> map = new java.util.HashMap<>();
		for (int i = 0; i < namesAndValues.length; i += 2) {
			map.put(namesAndValues[i], namesAndValues[i + 1]);
		}
		return map::get;
	}

	static Step.Attempt attempt(Exchange exchange) {
		Step step = exchange.next();
		assertThat(step).isInstanceOf(Step.Attempt.class);
		return (Step.Attempt) step;
	}

	static Step.Attempt attempt(Exchange exchange, String backend) {
		Step.Attempt attempt = attempt(exchange);
		assertThat(attempt.backend().name()).isEqualTo(backend);
		return attempt;
	}

	static Step.GiveUp giveUp(Exchange exchange) {
		Step step = exchange.next();
		assertThat(step).isInstanceOf(Step.GiveUp.class);
		return (Step.GiveUp) step;
	}

	static Step.Wait waitStep(Exchange exchange) {
		Step step = exchange.next();
		assertThat(step).isInstanceOf(Step.Wait.class);
		return (Step.Wait) step;
	}

	/** Records every event as a line, in order; thread-safe. */
	static final class RecordingListener implements BalancerListener {

		final List<String> events = Collections.synchronizedList(new ArrayList<>());

		final List<Long> nanos = Collections.synchronizedList(new ArrayList<>());

		@Override
		public void attemptEnded(Backend backend, Outcome outcome, long nanos) {
			this.events.add("attemptEnded " + backend.name() + " " + outcome);
			this.nanos.add(nanos);
		}

		@Override
		public void attemptEnded(Backend backend, String model, Outcome outcome, long nanos) {
			if (model == null) {
				attemptEnded(backend, outcome, nanos);
				return;
			}
			this.events.add("attemptEnded " + backend.name() + " " + model + " " + outcome);
			this.nanos.add(nanos);
		}

		@Override
		public void coolDownStarted(Backend backend, String model, java.time.Duration duration) {
			this.events.add("coolDownStarted " + backend.name() + " " + model + " " + duration);
		}

		@Override
		public void coolDownStarted(Backend backend, java.time.Duration duration) {
			this.events.add("coolDownStarted " + backend.name() + " " + duration);
		}

		@Override
		public void failedOver(Backend from, Outcome outcome) {
			this.events.add("failedOver " + from.name() + " " + outcome);
		}

		@Override
		public void requestEnded(int attempts, Step.Ending ending) {
			this.events.add("requestEnded " + attempts + " " + ending);
		}

	}

}
