package nangogateway.config;

/** How access-log lines are written: nginx's {@code combined} plus gateway fields, or one JSON object. */
public enum AccessLogFormat { COMBINED, JSON }
