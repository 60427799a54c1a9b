"""Networks and tables that strategies train: ``lstm_policy`` (the autoregressive LSTM policy with
an optional value head) and the other controllers each in its own module.

Nothing is imported here, so that importing a torch-free controller does not load torch.
"""
