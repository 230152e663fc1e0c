# Demo student "bob": remembers convolution from a signal-processing course and
# flips the kernel (a true convolution). Keras computes cross-correlation.
# Did not try the optional exercise 5.

# %% dense_param_count
def dense_param_count(input_shape, units):
    return (int(np.prod(input_shape)) + 1) * units

# %% conv2d_param_count
def conv2d_param_count(in_channels, filters, kernel_size):
    kh, kw = to_pair(kernel_size)
    return (kh * kw * in_channels + 1) * filters

# %% correlate2d
def correlate2d(image, kernel):
    k = kernel[::-1, ::-1]
    kh, kw = k.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=image.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (image[i:i + kh, j:j + kw] * k).sum()
    return out

# %% conv2d
def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    kernel = kernel[::-1, ::-1]
    kh, kw, c_in, c_out = kernel.shape
    sh, sw = to_pair(strides)
    if padding == "same":
        h, w = x.shape[:2]
        th = max((-(-h // sh) - 1) * sh + kh - h, 0)
        tw = max((-(-w // sw) - 1) * sw + kw - w, 0)
        x = np.pad(x, ((th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))
    h_out, w_out = (x.shape[0] - kh) // sh + 1, (x.shape[1] - kw) // sw + 1
    out = np.zeros((h_out, w_out, c_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = np.tensordot(x[i * sh:i * sh + kh, j * sw:j * sw + kw], kernel, axes=3) + bias
    return out
