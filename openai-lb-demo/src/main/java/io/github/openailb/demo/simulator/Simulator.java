package io.github.openailb.demo.simulator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import io.github.openailb.simulator.SimulatedBackend;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.context.SmartLifecycle;

/**
 * The simulated Azure OpenAI instances, started before anything else in the application so
 * they answer the very first balanced call.
 */
public class Simulator implements SmartLifecycle {

	private static final Log logger = LogFactory.getLog(Simulator.class);

	private final List<SimulatedBackend> backends = new ArrayList<>();

	private volatile boolean running;

	Simulator(SimulatorProperties properties) {
		properties.getInstances()
			.forEach((name, instance) -> this.backends.add(new SimulatedBackend(name, instance, apiKey(name))));
	}

	/** The (fake) key a simulated instance expects, so a wrong key shows up as a 401. */
	static String apiKey(String name) {
		return "simulated-key-" + name;
	}

	@Override
	public void start() {
		for (SimulatedBackend backend : this.backends) {
			try {
				backend.start();
			}
			catch (IOException ex) {
				throw new UncheckedIOException("Simulated instance '" + backend.name() + "' could not start", ex);
			}
		}
		this.running = true;
		logger.info("Simulating " + this.backends.size() + " Azure OpenAI instances on loopback");
	}

	@Override
	public void stop() {
		this.backends.forEach(SimulatedBackend::stop);
		this.running = false;
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return Integer.MIN_VALUE;
	}

}
