# Demo student "frank": answered only conv2d in this notebook. He reads the
# kernel as kernel[:, :, c_out, c_in] (channels swapped): right when there is
# one channel; wrong (or an IndexError) otherwise. Everything else scores 0.

# %% conv2d
def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
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
            window = x[i * sh:i * sh + kh, j * sw:j * sw + kw]
            for o in range(c_out):
                for c in range(c_in):
                    out[i, j, o] += np.sum(window[:, :, c] * kernel[:, :, o, c])
                out[i, j, o] += bias[o]
    return out
