package nangogateway.limits;

/**
 * The two process-wide budgets every buffered body counts against: bytes in memory ({@code server.buffer_memory})
 * and bytes in temporary files ({@code server.buffer_disk}).
 */
public record BufferBudgets(ByteBudget memory, ByteBudget disk) {
}
