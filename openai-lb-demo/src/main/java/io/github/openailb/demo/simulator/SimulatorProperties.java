package io.github.openailb.demo.simulator;

import java.util.LinkedHashMap;
import java.util.Map;

import io.github.openailb.simulator.SimulatedInstance;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the embedded simulator of Azure OpenAI instances ({@code demo.simulator.*}).
 */
@ConfigurationProperties("demo.simulator")
public class SimulatorProperties {

	/**
	 * Whether to start simulated backends on loopback and balance across them instead of the
	 * configured openai.lb.backends.
	 */
	private boolean enabled = true;

	/**
	 * Simulated instances by name.
	 */
	private Map<String, Instance> instances = new LinkedHashMap<>();

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public Map<String, Instance> getInstances() {
		return this.instances;
	}

	public void setInstances(Map<String, Instance> instances) {
		this.instances = instances;
	}

	/**
	 * One simulated Azure OpenAI instance.
	 */
	public static class Instance extends SimulatedInstance {

	}

}
