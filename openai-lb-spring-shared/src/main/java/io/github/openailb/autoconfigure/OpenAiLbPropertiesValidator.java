package io.github.openailb.autoconfigure;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.ConfigurationProblems;
import io.github.openailb.core.InvalidConfigurationException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.BeanInitializationException;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.bind.AbstractBindHandler;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.PropertySourcesPlaceholdersResolver;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.util.ClassUtils;
import org.springframework.util.unit.DataSize;

/**
 * Checks every {@code openai.lb.*} setting before any bean binds it, and fails start-up once with
 * all the problems found: names that bind to nothing (with the name probably meant), placeholders
 * left unresolved, enum values not spelt as documented, durations without a unit, values that do
 * not convert, and then what the engine, the transport and the credentials reject. Runs as a
 * bean factory post-processor so that a value Boot cannot convert is reported with the rest
 * instead of alone by the binder.
 */
class OpenAiLbPropertiesValidator implements BeanFactoryPostProcessor {

	private static final Logger logger = LoggerFactory.getLogger(OpenAiLbPropertiesValidator.class);

	/** The beans built from the properties; absent (backed off) when the application brings its own. */
	private static final List<String> PROPERTY_BASED_BEANS = List.of("openAiLbBalancerConfig", "openAiLoadBalancer");

	private static final ConfigurationPropertyName PREFIX = ConfigurationPropertyName.of(BalancerConfig.PREFIX);

	private static final OpenAiLbPropertyNames NAMES = OpenAiLbPropertyNames.of(BalancerConfig.PREFIX,
			OpenAiLbProperties.class);

	private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}:]*)");

	private static final Pattern BARE_NUMBER = Pattern.compile("\\s*[+-]?\\d+\\s*");

	private final Environment environment;

	OpenAiLbPropertiesValidator(Environment environment) {
		this.environment = environment;
	}

	@Override
	public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
		if (PROPERTY_BASED_BEANS.stream().allMatch(beanFactory::containsBeanDefinition)) {
			try {
				validate(this.environment, beanFactory.getBeanClassLoader());
			}
			catch (InvalidConfigurationException ex) {
				// as a failing bean would: the failure analyzer finds the cause
				throw new BeanInitializationException("Invalid openai-lb configuration", ex);
			}
		}
	}

	/**
	 * Validate the {@code openai.lb.*} settings of an environment.
	 * @param environment the environment
	 * @param classLoader the application's class loader
	 * @throws InvalidConfigurationException carrying every problem found
	 */
	static void validate(Environment environment, ClassLoader classLoader) {
		ConfigurationProblems problems = new ConfigurationProblems();
		checkNamesAndValues(environment, problems);
		OpenAiLbProperties properties = bind(environment, problems);
		properties.checkStoreAvailable(classLoader, problems);
		problems.collect(properties::toTransportConfig);
		try {
			BalancerConfig config = properties.toBalancerConfig();
			BackendCredentialsFactory.check(config, properties, entraIdAvailable(classLoader), problems);
		}
		catch (InvalidConfigurationException ex) {
			problems.addAll(ex);
		}
		firstPerProperty(problems).throwIfAny();
		warnIfEveryBackendDisabled(properties);
	}

	/** {@code response-timeout=-5} is first a number without a unit; its sign is a second-order issue. */
	private static ConfigurationProblems firstPerProperty(ConfigurationProblems problems) {
		ConfigurationProblems first = new ConfigurationProblems();
		for (ConfigurationProblems.Problem problem : problems.list()) {
			if (!first.has(problem.property())) {
				first.add(problem.property(), problem.problem(), problem.action());
			}
		}
		return first;
	}

	/**
	 * Look at each {@code openai.lb.*} name of each property source, as written: the binder
	 * ignores names that bind to nothing and leaves placeholders it cannot resolve as they are.
	 */
	private static void checkNamesAndValues(Environment environment, ConfigurationProblems problems) {
		if (!(environment instanceof ConfigurableEnvironment configurable)) {
			return;
		}
		PropertySourcesPlaceholdersResolver placeholders = new PropertySourcesPlaceholdersResolver(environment);
		Set<String> seen = new HashSet<>();
		for (PropertySource<?> propertySource : configurable.getPropertySources()) {
			ConfigurationPropertySource source = ConfigurationPropertySource.from(propertySource);
			if (!(source instanceof IterableConfigurationPropertySource iterable)) {
				continue;
			}
			// Kubernetes and others set OPENAI_LB_* variables of their own: only known names are read there
			boolean environmentVariables = StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME
				.equals(propertySource.getName());
			for (ConfigurationPropertyName name : iterable.stream().filter(PREFIX::isAncestorOf).toList()) {
				OpenAiLbPropertyNames.Leaf leaf = NAMES.find(name);
				if (leaf == null) {
					if (!environmentVariables && !NAMES.isGroup(name)) {
						unknown(name, propertySource.getName(), problems);
					}
					continue;
				}
				// only the value that wins (the first source) is bound
				if (seen.add(OpenAiLbPropertyNames.relaxedKey(name, true))) {
					ConfigurationProperty property = source.getConfigurationProperty(name);
					Object value = (property != null) ? property.getValue() : null;
					if (value != null) {
						checkValue(OpenAiLbPropertyNames.canonical(leaf, name), leaf,
								placeholders.resolvePlaceholders(value), problems);
					}
				}
			}
		}
	}

	private static void unknown(ConfigurationPropertyName name, String source, ConfigurationProblems problems) {
		String suggestion = NAMES.suggest(name);
		problems.add(name.toString(), "is not an openai-lb property (set in " + source + "), so it would be ignored",
				(suggestion != null) ? "Did you mean '" + suggestion + "'? Correct the name or remove it."
						: "Correct the name or remove it; the README's Configuration table lists every property.");
	}

	private static void checkValue(String property, OpenAiLbPropertyNames.Leaf leaf, Object resolved,
			ConfigurationProblems problems) {
		// YAML reads a bare 120 as a number
		if (!(resolved instanceof CharSequence) && !(resolved instanceof Number)) {
			return;
		}
		String value = resolved.toString();
		Matcher placeholder = PLACEHOLDER.matcher(value);
		if (placeholder.find()) {
			String variable = placeholder.group(1).strip();
			// the rest of the value may be a key: only the variable's name is shown
			problems.add(property, "holds the placeholder ${" + variable + "}, which nothing resolves",
					"Set the environment variable or property '" + variable + "' before start-up, or write the "
							+ "value itself.");
			return;
		}
		if (leaf.type().isEnum()) {
			checkEnum(property, leaf.type(), value.strip(), problems);
		}
		else if (leaf.type() == Duration.class && BARE_NUMBER.matcher(value).matches()
				&& Long.parseLong(value.strip()) != 0) {
			String number = value.strip();
			problems.add(property, "'" + number + "' has no unit, so it would be read as " + number + " milliseconds",
					"Write the unit: " + number + "s for seconds (" + number + "ms if milliseconds are meant; units: ms, "
							+ "s, m, h, d). 0 needs no unit.");
		}
	}

	/** Boot accepts any case and separator; the documented spellings are the only ones we accept. */
	private static void checkEnum(String property, Class<?> type, String value, ConfigurationProblems problems) {
		List<String> accepted = Arrays.stream(type.getEnumConstants())
			.map((constant) -> ((Enum<?>) constant).name().toLowerCase(Locale.ROOT).replace('_', '-'))
			.toList();
		boolean constantName = Arrays.stream(type.getEnumConstants())
			.anyMatch((constant) -> ((Enum<?>) constant).name().equals(value));
		if (!accepted.contains(value) && !constantName) {
			String shown = (value.length() <= 24) ? "'" + value + "'" : "the value";
			problems.add(property, shown + " is not one of " + String.join(", ", accepted),
					"Write one of " + String.join(", ", accepted) + " (lower case, as listed).");
		}
	}

	/** Where a property comes from, by source name only: an origin's text may quote the value's line. */
	private static String originOf(ConfigurationProperty property) {
		String origin = property.getOrigin().toString();
		int from = origin.indexOf("from ");
		return (from >= 0) ? origin.substring(from) : "from " + origin;
	}

	/** Bind as Boot will, recording each value that does not convert instead of stopping at it. */
	private static OpenAiLbProperties bind(Environment environment, ConfigurationProblems problems) {
		BindHandler handler = new AbstractBindHandler() {

			@Override
			public Object onFailure(ConfigurationPropertyName name, Bindable<?> target, BindContext context,
					Exception error) {
				String property = name.toString();
				if (error instanceof UnboundConfigurationPropertiesException unbound) {
					// a list whose entries come from two sources: name each entry left out, never its value
					for (ConfigurationProperty left : unbound.getUnboundProperties()) {
						problems.add(left.getName().toString(),
								"is ignored: the list '" + property + "' is bound from another property source"
										+ ((left.getOrigin() != null) ? " (it comes " + originOf(left) + ")" : ""),
								"Define every entry of '" + property + "' in one property source (one file, or only "
										+ "environment variables, or only command-line arguments).");
					}
					return null;
				}
				if (!problems.has(property)) {
					problems.add(property, "cannot be read as " + describe(target.getType().resolve(Object.class)),
							"Write " + example(target.getType().resolve(Object.class)) + ".");
				}
				return null;
			}

		};
		return Binder.get(environment).bind(BalancerConfig.PREFIX, Bindable.of(OpenAiLbProperties.class), handler)
			.orElseGet(OpenAiLbProperties::new);
	}

	private static String describe(Class<?> type) {
		if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
			return "a whole number";
		}
		if (type == boolean.class || type == Boolean.class) {
			return "true or false";
		}
		if (type.isEnum()) {
			return "one of " + enumValues(type);
		}
		return "a " + ((type == Duration.class) ? "duration" : (type == DataSize.class) ? "size" : type.getSimpleName());
	}

	private static String example(Class<?> type) {
		if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
			return "a whole number such as 2";
		}
		if (type == boolean.class || type == Boolean.class) {
			return "true or false";
		}
		if (type == Duration.class) {
			return "a duration with its unit, such as 30s or 500ms";
		}
		if (type == DataSize.class) {
			return "a size with its unit, such as 64MB";
		}
		if (type.isEnum()) {
			return "one of " + enumValues(type);
		}
		return "a valid value (see the README's Configuration table)";
	}

	private static String enumValues(Class<?> type) {
		return Arrays.stream(type.getEnumConstants())
			.map((constant) -> ((Enum<?>) constant).name().toLowerCase(Locale.ROOT).replace('_', '-'))
			.collect(Collectors.joining(", "));
	}

	/**
	 * A warning, not a failure: a pool may be started drained on purpose, to be enabled at run
	 * time, and health reports it DOWN meanwhile.
	 */
	private static void warnIfEveryBackendDisabled(OpenAiLbProperties properties) {
		if (!properties.getBackends().isEmpty()
				&& properties.getBackends().stream().noneMatch(OpenAiLbProperties.Backend::isEnabled)) {
			logger.warn("openai-lb: every backend has enabled=false, so every request fails until one is enabled; "
					+ "set openai.lb.backends[i].enabled=true on at least one, or openai.lb.enabled=false to switch "
					+ "balancing off");
		}
	}

	private static boolean entraIdAvailable(ClassLoader classLoader) {
		return ClassUtils.isPresent("com.azure.core.credential.TokenCredential", classLoader)
				&& ClassUtils.isPresent("com.azure.identity.DefaultAzureCredentialBuilder", classLoader);
	}

}
