def run_batch(spec_path, run_root, **options):
    """The batch flow as the CLI runs it: its final state and its summary."""
    from clipmill.flows.batch import batch_flow, batch_summary

    state = batch_flow(str(spec_path), str(run_root), return_state=True, **options)
    return state, batch_summary(state)
