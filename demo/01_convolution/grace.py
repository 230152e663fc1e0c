# Demo student "grace": lets SciPy do the NumPy-only correlate2d, with the
# import spelled so that a search for "import scipy" finds nothing.
# Expected: the parameter counts score, exercise 3 scores 0 with a message why.

# %% dense_param_count
def dense_param_count(input_shape, units):
    return (math.prod(input_shape) + 1) * units

# %% conv2d_param_count
def conv2d_param_count(in_channels, filters, kernel_size):
    kh, kw = to_pair(kernel_size)
    return (kh * kw * in_channels + 1) * filters

# %% correlate2d
import importlib

signal = importlib.import_module("sci" + "py.signal")

def correlate2d(image, kernel):
    return signal.correlate2d(image, kernel, mode="valid").astype(image.dtype)
